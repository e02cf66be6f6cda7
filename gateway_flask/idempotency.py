"""``Idempotency-Key`` support for every POST/PUT/PATCH route, as request hooks.

The key is scoped to tenant + principal + method + URL rule, so two callers
cannot see each other's responses. The first request claims the key with
``SET NX`` (state ``in_flight``, short TTL so a crashed worker cannot wedge
it); a response below 500 is stored for ``idempotency_ttl_s`` and replayed to
retries with the same body; a 5xx or an exception releases the key so the
client may retry. Claims are compared-and-set with Lua so a worker never
overwrites a claim that expired and was taken by another request.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import uuid
from typing import Any, Optional

from flask import Response, current_app, g, request

from careeros_services.common.errors import Unavailable
from gateway_flask.problems import IdempotencyInFlight, IdempotencyKeyReused, InvalidIdempotencyKey
from gateway_flask.security import optional_principal

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
REPLAY_HEADERS = ("Content-Type", "Location")
_VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")  # printable ASCII

log = logging.getLogger(__name__)

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_COMPLETE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""


class IdempotencyStore:
    """Claim, complete, release and replay idempotent requests in Redis."""

    def __init__(self, redis_client: Any, prefix: str, *, ttl_s: int, in_flight_ttl_s: int = 60):
        self._redis = redis_client
        self._prefix = prefix + "idem:"
        self.ttl_s, self.in_flight_ttl_s = int(ttl_s), int(in_flight_ttl_s)
        self._release = redis_client.register_script(_RELEASE)
        self._complete = redis_client.register_script(_COMPLETE)

    def before_request(self) -> Optional[Response]:
        """Claim the key, or answer from a previous request with the same key."""
        key = request.headers.get(HEADER)
        if key is None or request.method not in WRITE_METHODS or request.url_rule is None:
            return None
        if not _VALID_KEY.fullmatch(key):
            raise InvalidIdempotencyKey("Idempotency-Key must be 1-255 printable ASCII characters.")
        principal = optional_principal()
        tenant, who = (principal.tenant_id, principal.user_id) if principal else ("-", f"ip:{request.remote_addr}")
        redis_key = f"{self._prefix}{tenant}:{who}:{request.method}:{request.url_rule.rule}:{key}"
        fingerprint = _fingerprint()
        claim = json.dumps({"state": "in_flight", "fp": fingerprint, "owner": uuid.uuid4().hex})
        try:
            if self._redis.set(redis_key, claim, nx=True, ex=self.in_flight_ttl_s):
                g._careeros_idem = (redis_key, claim, fingerprint)
                return None
            stored = self._redis.get(redis_key)
        except Exception as exc:  # the client asked for at-most-once: do not guess
            raise Unavailable("Idempotency store unavailable.", retry_after=1) from exc
        if stored is None:  # released between our SET NX and GET: the other request failed
            raise IdempotencyInFlight("Retry the request.", retry_after=1)
        record = json.loads(stored)
        if record["fp"] != fingerprint:
            raise IdempotencyKeyReused("This Idempotency-Key was used with a different request.")
        if record["state"] != "done":
            raise IdempotencyInFlight("A request with this Idempotency-Key is still being processed.",
                                      retry_after=1)
        response = current_app.response_class(base64.b64decode(record["body"]), status=record["status"],
                                              headers=record["headers"])
        response.headers[REPLAYED_HEADER] = "true"
        return response

    def after_request(self, response: Response) -> Response:
        """Store a < 500 response for replay; release the key after a 5xx."""
        claimed = g.pop("_careeros_idem", None)
        if claimed is None:
            return response
        redis_key, claim, fingerprint = claimed
        if response.status_code >= 500 or response.is_streamed:
            self._release_quietly(redis_key, claim)
            return response
        record = json.dumps({
            "state": "done", "fp": fingerprint, "status": response.status_code,
            "headers": {h: response.headers[h] for h in REPLAY_HEADERS if h in response.headers},
            "body": base64.b64encode(response.get_data()).decode("ascii"),
        })
        try:
            if not self._complete(keys=[redis_key], args=[claim, record, self.ttl_s]):
                log.warning("idempotency claim lost before completion (ran longer than %s s)",
                            self.in_flight_ttl_s)
        except Exception:
            # The claim expires after in_flight_ttl_s; until then retries get 409.
            log.exception("could not store idempotent response")
        return response

    def teardown(self, exc: Optional[BaseException]) -> None:
        """Release a claim that no response completed (an error escaped the handlers)."""
        claimed = g.pop("_careeros_idem", None)
        if claimed is not None:
            self._release_quietly(claimed[0], claimed[1])

    def _release_quietly(self, redis_key: str, claim: str) -> None:
        try:
            self._release(keys=[redis_key], args=[claim])
        except Exception:
            log.exception("could not release idempotency key")


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method}\n{request.full_path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()
