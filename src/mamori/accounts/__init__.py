"""People and credentials: passwords, sessions and API keys, on top of the store."""
