"""Streaming a file the services hand out in chunks (signed download links: LMS assets and
certificates, privacy export archives)."""
from __future__ import annotations

from typing import Any, Callable

from flask import Response, stream_with_context

CHUNK_BYTES = 1024 * 1024


def signed_download(fetch: Callable[[int], Any], key: str) -> Response:
    """Stream the object ``key`` as an attachment; ``fetch(offset)`` answers one chunk (``data``,
    ``size``, ``content_type``) of at most ``CHUNK_BYTES``. The first chunk is fetched before the
    response starts, so a bad link (403) or a missing object (404) is a problem, not a broken body."""
    first = fetch(0)

    def body():
        chunk, sent = first, 0
        while True:
            yield chunk.data
            sent += len(chunk.data)
            if not chunk.data or sent >= chunk.size:
                return
            chunk = fetch(sent)

    response = Response(stream_with_context(body()), mimetype=first.content_type)
    response.headers["Content-Length"] = str(first.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'attachment; filename="{key.rsplit("/", 1)[-1]}"'
    return response
