"""Cached authenticated GETs: a hit is answered from Redis without calling the service.

A view opts in with :func:`cached` (its answer must depend only on the verified caller and the
URL). The entry and its generation are read in the request's one Redis round trip, beside the
rate limits and the token's revocation keys (``ratelimit.check_request``); a hit is served only
once the token is verified and not revoked, and only to the caller whose tenant and user name
the entry. A 200 answered by the view on a miss is stored tagged with the generation read before
the service was asked. Keys, generations and why stale answers are never served:
``careeros_services.common.read_cache``. ``gateway.read_cache_ttl_s: 0`` turns it off.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Optional, TypeVar

from flask import Response, g, request

from careeros_services.common import read_cache
from gateway_flask.security import optional_principal
from gateway_flask.state import gateway_state, view_marker

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable)
_CACHED_ATTR = "_careeros_read_cache"
KeyPart = Callable[[dict, dict], str]  # (verified claims, the URL's view args) -> a key part
Owners = Callable[[dict, dict], list]    # (claims, view args) -> [(kind, owner id)] whose changes end it


@dataclass(frozen=True)
class CachedRead:
    """How one view's answers are cached: ``kind`` names the data; ``scope`` makes the entry key
    (whose answer it is), ``owners`` the generation keys (whose changes make it stale)."""

    kind: str
    scope: KeyPart
    owners: Owners


def cached(kind: str, *, scope: KeyPart, owners: Owners) -> Callable[[F], F]:
    """Mark a GET view as cacheable (put it right under ``@blp.route``)::

        @cached(PROFILE, scope=lambda claims, args: f"{claims['tenant_id']}:{claims['sub']}",
                owners=lambda claims, args: [(PROFILE, claims["sub"])])

    The scope must name everything the answer depends on beyond its owners' data and the
    caller's plan tier (which is part of every entry's tag).
    """
    def decorator(func: F) -> F:
        setattr(func, _CACHED_ATTR, CachedRead(kind, scope, owners))
        return func
    return decorator


@dataclass(frozen=True)
class Lookup:
    """The Redis keys this request reads; :meth:`settle` decides from their values."""

    entry_key: str
    generation_keys: tuple[str, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        """Read in the request's one Redis round trip; their values go to :meth:`settle`."""
        return (self.entry_key, *self.generation_keys)

    def settle(self, values: list, plan_tier: str) -> None:
        """Keep the body of a hit for :func:`cached_response`, or what a miss will store."""
        entry, *generations = values
        tag = read_cache.current_tag(generations, plan_tier)
        body = read_cache.fresh_body(entry, tag)
        if body is not None:
            g._careeros_cache_hit = body
        else:
            g._careeros_cache_fill = (self.entry_key, tag)


def lookup_for(claims: dict) -> Optional[Lookup]:
    """The lookup of this request when its view is cacheable (a GET, the cache on), else None."""
    if request.method != "GET" or request.url_rule is None or not _ttl_s():
        return None
    spec: Optional[CachedRead] = view_marker(_CACHED_ATTR)
    if spec is None:
        return None
    args = request.view_args or {}
    return Lookup(read_cache.entry_key(spec.kind, spec.scope(claims, args)),
                  tuple(read_cache.generation_key(kind, str(owner)) for kind, owner in spec.owners(claims, args)))


def cached_response() -> Optional[Response]:
    """The answer of a hit (the caller's token verified and not revoked), else None."""
    body = g.pop("_careeros_cache_hit", None)
    if body is None or g.get("_careeros_principal") is None:
        return None
    return Response(body, 200, mimetype="application/json")


def store(response: Response) -> None:
    """After the view: keep a 200 answer of a missed lookup for the next reads."""
    fill = g.pop("_careeros_cache_fill", None)
    if fill is None or response.status_code != 200 or response.direct_passthrough:
        return
    entry_key, tag = fill
    try:
        gateway_state().redis.set(entry_key, read_cache.tagged(tag, response.get_data()), ex=_ttl_s())
    except Exception:  # a read that is not cached is only slower
        log.warning("read cache unavailable; answer not kept", exc_info=True)


def writers_read_their_writes(blp: Any, kind: str) -> None:
    """After a successful write through ``blp``, end its writer's ``kind`` entries (owner: the
    caller's user id): they read their write on the next request, not after the event's trip."""
    @blp.after_request
    def _forget_the_writers(response: Response) -> Response:
        if request.method != "GET" and response.status_code < 400:
            principal = optional_principal()
            if principal is not None:
                forget(kind, principal.user_id)
        return response


def forget(kind: str, owner: str) -> None:
    """After a write through this gateway: its writer reads it on the next request, not after
    the event's trip (the owning service's consumer bumps the generation again then)."""
    try:
        read_cache.forget(gateway_state().redis, kind, owner)
    except Exception:  # the event's bump and the entry's TTL still end the stale answer
        log.warning("read cache unavailable; generation of %s not bumped", kind, exc_info=True)


def _ttl_s() -> int:
    settings = gateway_state().settings
    return int(settings.read_cache_ttl_s) if settings is not None else 0
