"""Embedding model profiles, their installation and loading, and the local GGUF server."""
