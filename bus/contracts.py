"""Event contracts: the envelope and one payload schema per versioned type.

Schemas live in ``contracts/events/``: ``event-envelope-v1.json`` and
``<type>.json`` (e.g. ``careeros.auth.user.registered.v1.json``). Producers
call :func:`validate` before writing to the outbox; consumers call it on
receipt, and an event that fails goes to the DLQ with the reason.

Every type is also a constant of this module, named after it without the
``careeros.`` prefix (``careeros.auth.user.registered.v1`` is
``AUTH_USER_REGISTERED_V1``). Producers and handlers import those constants,
so a type with no contract fails at import, not when the event is sent::

    from bus.contracts import AUTH_USER_REGISTERED_V1 as USER_REGISTERED
"""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import fastjsonschema

CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "contracts" / "events"
ENVELOPE_FILE = "event-envelope-v1.json"
_VERSION_SUFFIX = re.compile(r"\.v(\d+)$")


class InvalidEvent(ValueError):
    """An envelope or payload that does not match its contract."""


@functools.lru_cache(maxsize=None)
def _validator(filename: str):
    """The contract compiled to Python code by fastjsonschema.

    Every event is validated twice (producer and consumer), so this is on the
    hot path: compiled validators are ~25x faster than jsonschema's here
    (0.01 ms vs 0.26 ms for an envelope). The schemas use only keywords that
    both libraries read alike; tests check them with jsonschema's 2020-12 meta-schema.
    """
    path = CONTRACTS_DIR / filename
    if not path.is_file():
        raise InvalidEvent(f"no contract {filename!r} in contracts/events")
    return fastjsonschema.compile(json.loads(path.read_text()))


def known_types() -> list[str]:
    return sorted(p.stem for p in CONTRACTS_DIR.glob("careeros.*.json"))


def constant_name(event_type: str) -> str:
    """``careeros.auth.user.registered.v1`` → ``AUTH_USER_REGISTERED_V1``."""
    return "_".join(event_type.split(".")[1:]).upper()


EVENT_TYPES: dict[str, str] = {constant_name(t): t for t in known_types()}
globals().update(EVENT_TYPES)


def __getattr__(name: str):
    # Reached only for names that are not defined: ``from bus.contracts import X`` then fails at import.
    raise AttributeError(f"no event contract for {name!r} in contracts/events (known: {', '.join(EVENT_TYPES)})")


def _first_error(validator, document: dict, what: str) -> None:
    try:
        validator(document)
    except fastjsonschema.JsonSchemaException as error:
        where = "/".join(str(p) for p in (error.path or [])[1:]) or "(root)"
        raise InvalidEvent(f"{what} invalid at {where}: {error.message}") from None


def validate(envelope: dict) -> dict:
    """Check an envelope and its payload; return it, or raise InvalidEvent."""
    if not isinstance(envelope, dict):
        raise InvalidEvent("envelope is not a JSON object")
    _first_error(_validator(ENVELOPE_FILE), envelope, "envelope")
    match = _VERSION_SUFFIX.search(envelope["type"])
    if not match or int(match.group(1)) != envelope["version"]:
        raise InvalidEvent("envelope version does not match the type's .vN suffix")
    _first_error(_validator(f"{envelope['type']}.json"), envelope["payload"], f"payload of {envelope['type']}")
    return envelope


def decode(value: bytes | str | None) -> dict:
    """Parse and validate a message value."""
    try:
        envelope = json.loads(value) if value is not None else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEvent(f"value is not JSON: {exc}") from None
    return validate(envelope)


def topic_for(event_type: str, prefix: str = "careeros") -> str:
    """One topic per producing service and aggregate.

    ``careeros.auth.user.registered.v1`` goes to ``<prefix>.auth.user``, so all
    events of one aggregate share a topic and, keyed by aggregate id, a partition.
    """
    parts = event_type.split(".")
    return ".".join([prefix, parts[1], parts[2]])


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"
