"""The two faces of mamori over HTTP: the workspace UI and the OpenAI-compatible API."""
