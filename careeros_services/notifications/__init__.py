"""notifications: e-mail to people about what happened elsewhere (verification, reset, invites,
assignments, certificates, receipts, dunning), once per event, with preferences and unsubscribe.

``domain`` (pure rules: which event makes which message, backoff, unsubscribe tokens) ·
``rendering`` (templates -> MIME) · ``mailer`` (SMTP client) · ``sink`` (the embedded SMTP sink) ·
``persistence`` · ``service`` · ``entrypoints/`` · ``migrations/``.
"""
