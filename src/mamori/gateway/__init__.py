"""The only package that speaks HTTP to inference engines.

A ``ChatBackend`` turns an ``UpstreamRequest`` into normalised ``StreamEvent``s. Engines differ in
wire details; each is a ``Dialect`` (data, registered by name) applied by one backend, which
speaks the wire protocol the dialect names: OpenAI chat/completions, or Ollama's native API.
"""
