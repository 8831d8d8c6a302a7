"""The chat pipeline: one ordered list of stages shared by the /v1 API and the workspace UI."""
