"""The web side: API routes and schemas, the chat page, widget routes, middleware, limits, UI strings."""
