"""The audit trail: one record per chat turn."""
