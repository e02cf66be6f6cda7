"""billing: plans, subscriptions, invoices, payments and the activation saga.

``domain`` (pure rules: plans, proration, dunning, state machine) · ``payments``
(provider interface: sandbox and Stripe; webhook signatures) · ``persistence``
(Peewee models, repository) · ``saga`` (the orchestrated activation/change saga) ·
``service`` (the service layer both entrypoints call) · ``entrypoints/`` · ``migrations/``.
"""
