"""`faceid`: the command line, a thin client of the running server's GraphQL API.

It never imports ml/ or models/: what it can do, any client can.
"""
