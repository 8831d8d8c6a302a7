"""Finds and transforms sensitive content: PII detectors, pseudonymisation, injection screening."""
