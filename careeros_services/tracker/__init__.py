"""tracker: learning activity (an xAPI Learning Record Store) and learners' progress.

``domain`` (pure rules) · ``persistence`` (Peewee models and repository) ·
``service`` (the service layer both entrypoints call) · ``entrypoints/``
(nameko RPC + event consumer, plain grpcio server) · ``migrations/``.
"""
