"""Who may do what: API keys, scopes, the caller's principal, rate limits and the audit log.

Schema fields declare the scope they need (auth.permissions.needs); resolvers ask
auth.access for the few decisions that depend on the caller (how far a match may
reach). No other module checks a key or a scope.
"""
