"""Sovereignty rules: classify a turn and decide which endpoints may receive it."""
