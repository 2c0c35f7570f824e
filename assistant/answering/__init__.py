"""Answers: extractive and LLM answerers, citations, conversation state, the chat and answer services."""
