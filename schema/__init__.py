"""The GraphQL schema: types, inputs, Query and Mutation, with their descriptions.

`schema.root.schema` is the assembled schema that app.py serves.
"""
