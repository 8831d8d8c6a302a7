"""mamori (守り): a sovereign generative-AI workspace."""

__version__ = "0.1.0"
