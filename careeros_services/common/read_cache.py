"""A short read cache of service answers in Redis, shared by the gateway's workers and kept
honest by events (issue 17).

The gateway keeps the body of a cacheable answer (e.g. ``GET /profile``) under an *entry* key,
tagged with the *generation* of what it shows; whoever changes that data bumps the generation:

* ``careeros:read-cache:<kind>:<scope>`` → ``b"<tag>|<body>"``, for ``ttl_s`` seconds;
* ``careeros:read-cache-gen:<kind>:<owner>`` → a counter, INCR'd on every change of the owner's data.

An answer may depend on several owners (a course page: the course, and the caller's enrolment);
its tag is their generations plus the caller's plan tier. A reader reads the entry and the
generations in the same round trip and uses the entry only when its tag is the current one. On a
miss it asks the service and stores the answer tagged as read *before* asking, so an answer read
before a change and stored after the change's bump is never served.

Who bumps: the owning service's consumer, on the events that say the data changed (event-driven:
changes made anywhere, by RPC, ``nameko shell`` or another event, reach the cache), and the
gateway right after a write it made itself, so a client reads its own write at once instead of
after the event's trip through the broker. The entry's TTL bounds what a lost bump (Redis down
while the event was handled) could cost.

Ids in the keys are UUIDs, unique across platforms sharing one Redis, so no per-run prefix is
needed (the same reasoning as ``plan_cache``).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

# What is cached, and whose generations make it stale (the gateway's views name them):
PROFILE = "profile"      # GET /profile; owner: the person (profile.updated, the profile's erasure)
COURSE = "course"        # GET /lms/courses/{id}; owners: the course (course.published/archived/changed) ...
LMS_LEARNER = "lms-user"  # ... and the caller (enrollment.created/cancelled/completed, their LMS writes)

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


class Keeper:
    """What a service's consumer uses to end cached answers of its data (``forget``)."""

    def __init__(self, redis_client: Optional[Any]):
        self.redis = redis_client  # None: nothing is cached (a service built without Redis, in tests)

    @classmethod
    def from_config(cls, config: dict) -> "Keeper":
        import redis
        return cls(redis.Redis.from_url(config["redis_url"]))

    def forget(self, kind: str, owner: str) -> None:
        """Bump ``owner``'s generation of ``kind``. Redis down raises: the consumer's batch fails
        and the bus retries it (the entries' TTL bounds what a dead-lettered bump costs)."""
        if self.redis is not None:
            forget(self.redis, kind, owner)


NO_CACHE = Keeper(None)


def current_tag(generations: Sequence[Any], *context: str) -> bytes:
    """What an entry must be tagged with to be served now: the current values of its owners'
    generations as read from Redis (None: never bumped), and ``context`` the answer also depends
    on (the caller's plan tier as of this request)."""
    values = [b"0" if v is None else v if isinstance(v, bytes) else str(v).encode() for v in generations]
    return b".".join(values) + b"/" + "/".join(context).encode()


def tagged(tag: bytes, body: bytes) -> bytes:
    """The entry to store: ``body`` tagged with the tag read before the service was asked."""
    return tag + b"|" + body


def fresh_body(entry: Optional[bytes], tag: bytes) -> Optional[bytes]:
    """The cached body when ``entry`` is tagged with ``tag`` (the current one), else None (a miss)."""
    if not entry:
        return None
    entry_tag, separator, body = entry.partition(b"|")
    return body if separator and entry_tag == tag else None
