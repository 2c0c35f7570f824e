"""Web entry point: FastAPI app with the Gradio chat, the HTTP API and the widget."""
