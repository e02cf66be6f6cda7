"""auth: identities, tenants, memberships and tokens.

``domain`` (pure rules: validation, password hashing, JWT and JWK helpers) ·
``persistence`` (Peewee models and repository) · ``service`` (the service
layer both entrypoints call, ``build(config)``) · ``entrypoints/`` (nameko RPC,
plain grpcio server) · ``migrations/``.
"""
