"""Hybrid retrieval: dense and lexical search, fusion, diversity."""
