"""The HTTP and WebSocket edge: the GraphQL view, the plain routes, middleware, static files, error answers.

What reaches the server over a socket passes here first; everything below (schema/,
resolvers/, auth/) sees typed values, never a request's bytes.
"""
