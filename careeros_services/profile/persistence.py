"""Profiles in PostgreSQL: the Peewee model and a repository with domain verbs.

The model is bound to :data:`database_proxy`, initialised by the service
factory (``service.build``). The repository runs every query on the
connection of the unit of work it is given (``tx.db``) rather than on
whatever the proxy points at, so a query can never escape the transaction
and its row-level-security tenant. Every query also names its tenant
explicitly: RLS is the second lock, not the only one.
"""
from __future__ import annotations

import functools
import json
from typing import Optional

import peewee
from playhouse.postgres_ext import BinaryJSONField, DateTimeTZField

from careeros_services.common.unit_of_work import UnitOfWork
from careeros_services.profile.domain import Profile

database_proxy = peewee.DatabaseProxy()


# What the privacy saga exports and erases (bus/privacy.py): the learner's profile in the tenant.
PERSONAL_ROWS = (("profiles", "user_id = %(user)s AND tenant_id = %(tenant)s"),)


class ProfileRecord(peewee.Model):
    """A row of ``profiles`` (schema: ``migrations/m0001_initial.py``)."""

    user_id = peewee.UUIDField(primary_key=True)
    tenant_id = peewee.UUIDField(index=True)
    display_name = peewee.TextField(default="")
    headline = peewee.TextField(default="")
    current_role = peewee.TextField(default="")
    target_role = peewee.TextField(default="")
    years_experience = peewee.IntegerField(default=0)
    skills = BinaryJSONField(default=list)
    interests = BinaryJSONField(default=list)
    learning_pace = peewee.TextField(default="steady")
    skill_evidence = BinaryJSONField(default=dict)
    version = peewee.BigIntegerField(default=1)
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()

    class Meta:
        database = database_proxy
        table_name = "profiles"


def bind(database: peewee.Database) -> None:
    """Point the model at the service's database (called once by the factory)."""
    database_proxy.initialize(database)


_COLUMNS = ("display_name", "headline", "current_role", "target_role", "years_experience", "skills",
            "interests", "learning_pace", "skill_evidence", "version", "created_at", "updated_at")


def _to_domain(row: ProfileRecord) -> Profile:
    return Profile(user_id=str(row.user_id), tenant_id=str(row.tenant_id),
                   **{name: getattr(row, name) for name in _COLUMNS})


def _to_row(profile: Profile) -> dict:
    return {getattr(ProfileRecord, name): getattr(profile, name) for name in _COLUMNS}


_SELECTED = ("user_id", "tenant_id", *_COLUMNS)


@functools.lru_cache(maxsize=8)
def _get_sql(db: peewee.Database) -> str:
    """The profile read, built by Peewee once per database (building it cost more CPU than
    PostgreSQL took to answer it)."""
    query = (ProfileRecord.select(*[getattr(ProfileRecord, name) for name in _SELECTED])
             .where((ProfileRecord.tenant_id == "t") & (ProfileRecord.user_id == "u")))
    sql, _params = db.get_sql_context().sql(query).query()
    return sql


_INSERTED = ("user_id", "tenant_id", *_COLUMNS)
_JSON_COLUMNS = frozenset({"skills", "interests", "skill_evidence"})
# Written by hand (Peewee built it at 1 ms an event); ``current_role`` is a reserved word, so
# every column is quoted.
_INSERT_IF_ABSENT_SQL = (
    "INSERT INTO profiles (" + ", ".join('"%s"' % name for name in _INSERTED) + ") VALUES ("
    + ", ".join("%s::jsonb" if name in _JSON_COLUMNS else "%s" for name in _INSERTED)
    + ") ON CONFLICT DO NOTHING RETURNING 1")


class ProfileRepository:
    """Profiles of one unit of work (``uow.profiles``)."""

    def __init__(self, db: peewee.Database):
        self.db = db

    def get(self, tenant_id: str, user_id: str) -> Optional[Profile]:
        """The learner's profile in this tenant, or None."""
        row = self.db.execute_sql(_get_sql(self.db), (tenant_id, user_id)).fetchone()
        if row is None:
            return None
        values = dict(zip(_SELECTED, row))
        return Profile(user_id=str(values["user_id"]), tenant_id=str(values["tenant_id"]),
                       **{name: values[name] for name in _COLUMNS})

    @staticmethod
    def insert_if_absent(profile: Profile) -> tuple[str, list]:
        """The statement inserting a new profile, returning a row only when the user had none
        (for ``tx.defer_publish_if``: no round trip, and the event follows only a new row)."""
        return _INSERT_IF_ABSENT_SQL, [json.dumps(getattr(profile, name)) if name in _JSON_COLUMNS
                                       else getattr(profile, name) for name in _INSERTED]

    def save(self, profile: Profile, expected_version: int) -> bool:
        """Write ``profile`` if the stored row still has ``expected_version``.

        False means another writer got there first (the optimistic check failed)
        and nothing was written.
        """
        updated = (ProfileRecord.update(_to_row(profile))
                   .where((ProfileRecord.tenant_id == profile.tenant_id)
                          & (ProfileRecord.user_id == profile.user_id)
                          & (ProfileRecord.version == expected_version))
                   .execute(self.db))
        return updated == 1


class ProfileUnitOfWork(UnitOfWork):
    """One profile transaction and its repositories."""

    repositories = {"profiles": ProfileRepository}
    profiles: ProfileRepository
