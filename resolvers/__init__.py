"""Thin resolvers: validate arguments, call ml/ and models/, map rows to schema types."""
