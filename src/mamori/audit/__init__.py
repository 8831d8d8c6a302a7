"""The audit trail: who may read what of it, and (with the audit issue) its hash chain."""
