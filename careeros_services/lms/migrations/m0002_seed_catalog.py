"""The platform's public catalog from ``seed/catalog.json`` (idempotent; see ``seeding``)."""


def up(cur) -> None:
    from careeros_services.lms import seeding
    seeding.seed(cur)
