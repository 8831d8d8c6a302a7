"""Plain data shared by every layer. Nothing here performs I/O or imports other mamori packages."""
