"""Ingestion: load documents, parse legal structure, chunk, embed, store."""
