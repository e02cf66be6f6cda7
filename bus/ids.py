"""Random (version 4) UUIDs for event ids, without a system call each.

``uuid.uuid4()`` reads 16 bytes with ``os.urandom``, which releases the GIL for its system call:
in a consumer whose partition threads are busy with Python, the thread then waits for the GIL
again, up to the switch interval (py-spy put 30 % of a draining consumer's samples there). Here
each thread reads 4 KiB of the same random source at once and takes 16 bytes of it per id.
"""
from __future__ import annotations

import os
import threading
import uuid

_CHUNK = 4096  # 256 ids per system call
_local = threading.local()


def uuid4() -> uuid.UUID:
    """A random UUID, as ``uuid.uuid4()`` (the same source, read in bulk)."""
    local = _local
    try:
        offset = local.offset
        chunk = local.chunk[offset:offset + 16]
    except AttributeError:
        offset, chunk = _CHUNK, b""
    if len(chunk) < 16:
        local.chunk, offset = os.urandom(_CHUNK), 0
        chunk = local.chunk[:16]
    local.offset = offset + 16
    return uuid.UUID(bytes=chunk, version=4)


def _forget_in_child() -> None:
    # A forked child must not hand out the ids its parent had read already.
    _local.__dict__.clear()  # (the forking thread's; no other thread exists in the child)


os.register_at_fork(after_in_child=_forget_in_child)
