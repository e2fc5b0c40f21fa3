"""The GraphQL schema: types, inputs, enums, and the Query, Mutation and Subscription roots, with their
descriptions and each field's contract (scope, rate, cost, audit); the types build themselves from the
resolvers' domain values.

`schema.root.schema` is the assembled schema that app.py serves.
"""
