"""Where uploaded CVs are kept: the platform's object store when it is there.

``careeros_services.common.storage`` (shared, written for the LMS) is used
when present; its expected interface is ``put(key, data, content_type)`` and
``get(key) -> bytes``. Until then, and as the embedded default, a local
directory behind the same two methods.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...


class LocalObjectStore:
    """Objects as files under a root directory (keys are relative paths without "..")."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"bad object key {key!r}")
        return self.root / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()


def build(config: dict) -> ObjectStore:
    """The shared store if the platform has one configured, else a local directory."""
    try:
        from careeros_services.common import storage  # type: ignore[attr-defined]
    except ImportError:
        storage = None
    if storage is not None:
        for factory in ("from_config", "build", "make_store"):
            make = getattr(storage, factory, None)
            if callable(make):
                try:
                    return make(config)
                except (KeyError, TypeError):  # not configured for this deployment
                    break
    root = (config.get("ai_core") or {}).get("local_storage_dir") or "var/objects"
    return LocalObjectStore(root)
