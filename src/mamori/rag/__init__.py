"""Japanese-first document search: parsing, tokenising, indexing and retrieval."""
