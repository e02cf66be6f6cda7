"""profile: the learner's career profile (headline, roles, skills, interests, pace).

``domain`` (pure rules) · ``persistence`` (Peewee model and repository) ·
``service`` (the service layer both entrypoints call) · ``entrypoints/``
(nameko RPC + event consumer, plain grpcio server) · ``migrations/``.
"""
