"""A short read cache of service answers in Redis, shared by the gateway's workers and kept
honest by events (issue 17).

The gateway keeps the body of a cacheable answer (e.g. ``GET /profile``) under an *entry* key,
tagged with the *generation* of what it shows; whoever changes that data bumps the generation:

* ``careeros:read-cache:<kind>:<scope>`` → ``b"<generation>|<body>"``, for ``ttl_s`` seconds;
* ``careeros:read-cache-gen:<kind>:<owner>`` → a counter, INCR'd on every change.

A reader reads the entry and the generation in the same round trip and uses the entry only when
its tag is the current generation. On a miss it asks the service and stores the answer tagged with
the generation it read *before* asking, so an answer read before a change and stored after the
change's bump is never served. Who bumps: the owning service's consumer, on the events that say
the data changed (event-driven: changes made anywhere, by RPC, ``nameko shell`` or another event,
reach the cache), and the gateway right after a write it made itself, so a client reads its own
write at once instead of after the event's trip through the broker. The entry's TTL bounds what a
lost bump (Redis down while the event was handled) could cost.

Ids in the keys are UUIDs, unique across platforms sharing one Redis, so no per-run prefix is
needed (the same reasoning as ``plan_cache``).
"""
from __future__ import annotations

from typing import Any, Optional

PROFILE = "profile"  # GET /profile: scope "<tenant>:<user>", owner "<user>" (profile.updated, erasure)

ENTRY_PREFIX = "careeros:read-cache:"
GENERATION_PREFIX = "careeros:read-cache-gen:"
# Far longer than any entry lives, so a generation never disappears (and restarts at 0) while an
# entry tagged with an older value could still be read; a fresh counter then starts at 1.
GENERATION_TTL_S = 7 * 24 * 3600


def entry_key(kind: str, scope: str) -> str:
    return f"{ENTRY_PREFIX}{kind}:{scope}"


def generation_key(kind: str, owner: str) -> str:
    return f"{GENERATION_PREFIX}{kind}:{owner}"


def forget(redis_client: Any, kind: str, owner: str) -> None:
    """Bump ``owner``'s generation of ``kind``: every cached answer showing its data is stale."""
    key = generation_key(kind, owner)
    pipe = redis_client.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, GENERATION_TTL_S)
    pipe.execute()


def generation(value: Any) -> bytes:
    """A generation as read from Redis (None: never bumped) in the form entries are tagged with."""
    if value is None:
        return b"0"
    return value if isinstance(value, bytes) else str(value).encode()


def tagged(current_generation: bytes, body: bytes) -> bytes:
    """The entry to store: ``body`` tagged with the generation read before the service was asked."""
    return current_generation + b"|" + body


def fresh_body(entry: Optional[bytes], current_generation: bytes) -> Optional[bytes]:
    """The cached body when ``entry`` is tagged with the current generation, else None (a miss)."""
    if not entry:
        return None
    tag, separator, body = entry.partition(b"|")
    return body if separator and tag == current_generation else None
