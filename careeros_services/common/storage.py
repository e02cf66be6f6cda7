"""Object storage behind one small interface: put / get / delete / exists / presigned_url by key.

Two backends, chosen by configuration (a service passes its own section, e.g. ``config["lms"]["storage"]``):

* ``local`` (the embedded default): files under ``root/<bucket>/<key>``; a "presigned" URL
  is ``<public_base_url>/<key>?expires=..&signature=..`` signed with HMAC-SHA256, which the
  owning service checks with :meth:`ObjectStorage.verify` before streaming the bytes.
* ``s3``: any S3-compatible server (MinIO in compose/k8s) through the ``minio`` client; a
  presigned URL is S3's own (the client downloads straight from the bucket).

Keys are relative paths (``tenant/lesson/asset``); anything that could escape the bucket
(``..``, absolute paths, backslashes) is refused. Used by lms (course assets, certificate
PDFs) and ai_core (CV uploads).
"""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Optional, Protocol, Union
from urllib.parse import quote, urlencode

from careeros_services.common.config import load_config

Data = Union[bytes, bytearray, memoryview]
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,511}$")


class StorageError(Exception):
    """The backend failed (not: the object is missing — that is :class:`ObjectMissing`)."""


class ObjectMissing(KeyError):
    """No object under this key."""


def check_key(key: str) -> str:
    """The key if it is a safe relative object key; ValueError otherwise."""
    if not isinstance(key, str) or not _KEY.match(key) or ".." in key.split("/") or "//" in key:
        raise ValueError(f"invalid object key: {key!r}")
    return key


class ObjectStorage(Protocol):
    bucket: str

    def put(self, key: str, data: Data, content_type: str = "application/octet-stream") -> None: ...
    def get(self, key: str, offset: int = 0, length: Optional[int] = None) -> bytes: ...
    def size(self, key: str) -> int: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def presigned_url(self, key: str, expires_s: int = 900) -> str: ...
    def verify(self, key: str, expires: int, signature: str) -> bool: ...


class _Signer:
    """HMAC signatures for local download links (key + expiry)."""

    def __init__(self, secret: str):
        if not secret:
            raise ValueError("storage.signing_secret must be set")
        self._secret = secret.encode()

    def sign(self, bucket: str, key: str, expires: int) -> str:
        return hmac.new(self._secret, f"{bucket}\n{key}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def verify(self, bucket: str, key: str, expires: int, signature: str) -> bool:
        if int(expires) < time.time():
            return False
        return hmac.compare_digest(self.sign(bucket, key, int(expires)), str(signature))


class LocalStorage:
    """Files under ``root/bucket``; writes are atomic (temp file + rename)."""

    def __init__(self, root: Union[str, os.PathLike], bucket: str, *, signing_secret: str,
                 public_base_url: str = ""):
        self.bucket = bucket
        self.base = Path(root).resolve() / bucket
        self.base.mkdir(parents=True, exist_ok=True)
        self.public_base_url = public_base_url.rstrip("/")
        self._signer = _Signer(signing_secret)

    def _path(self, key: str) -> Path:
        return self.base / check_key(key)

    def put(self, key: str, data: Data, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
        tmp.write_bytes(bytes(data))
        os.replace(tmp, path)

    def get(self, key: str, offset: int = 0, length: Optional[int] = None) -> bytes:
        try:
            with self._path(key).open("rb") as fh:
                fh.seek(offset)
                return fh.read() if length is None else fh.read(length)
        except FileNotFoundError:
            raise ObjectMissing(key) from None

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise ObjectMissing(key) from None

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def presigned_url(self, key: str, expires_s: int = 900) -> str:
        expires = int(time.time()) + int(expires_s)
        query = urlencode({"expires": expires, "signature": self._signer.sign(self.bucket, check_key(key), expires)})
        return f"{self.public_base_url}/{quote(key)}?{query}"

    def verify(self, key: str, expires: int, signature: str) -> bool:
        return self._signer.verify(self.bucket, check_key(key), expires, signature)


class S3Storage:
    """An S3-compatible bucket through the ``minio`` client (MinIO, AWS S3, moto in tests)."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str, *,
                 secure: bool = False, region: Optional[str] = None, create_bucket: bool = True):
        from minio import Minio

        self.bucket = bucket
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region)
        if create_bucket and not self.client.bucket_exists(bucket):
            try:
                self.client.make_bucket(bucket)
            except Exception as exc:  # noqa: BLE001 - created concurrently is fine
                if getattr(exc, "code", "") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise StorageError(str(exc)) from exc

    @staticmethod
    def _missing(exc: Exception) -> bool:
        return getattr(exc, "code", "") in ("NoSuchKey", "NoSuchObject", "ResourceNotFound")

    def put(self, key: str, data: Data, content_type: str = "application/octet-stream") -> None:
        raw = bytes(data)
        self.client.put_object(self.bucket, check_key(key), io.BytesIO(raw), len(raw), content_type=content_type)

    def get(self, key: str, offset: int = 0, length: Optional[int] = None) -> bytes:
        from minio.error import S3Error
        response = None
        try:
            response = self.client.get_object(self.bucket, check_key(key), offset=offset, length=length or 0)
            return response.read()
        except S3Error as exc:
            if self._missing(exc):
                raise ObjectMissing(key) from None
            raise StorageError(str(exc)) from exc
        finally:
            if response is not None:
                response.close()
                response.release_conn()

    def size(self, key: str) -> int:
        from minio.error import S3Error
        try:
            return int(self.client.stat_object(self.bucket, check_key(key)).size)
        except S3Error as exc:
            if self._missing(exc):
                raise ObjectMissing(key) from None
            raise StorageError(str(exc)) from exc

    def delete(self, key: str) -> None:
        self.client.remove_object(self.bucket, check_key(key))

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
            return True
        except ObjectMissing:
            return False

    def presigned_url(self, key: str, expires_s: int = 900) -> str:
        return self.client.presigned_get_object(self.bucket, check_key(key), expires=timedelta(seconds=int(expires_s)))

    def verify(self, key: str, expires: int, signature: str) -> bool:
        return False  # S3 checks its own presigned URLs; nothing is streamed through us


def make_storage(settings: dict) -> ObjectStorage:
    """The backend a config section names::

        storage:
          backend: local | s3
          bucket: careeros-lms
          root: var/objects                 # local
          signing_secret: ...               # local download links
          public_base_url: /api/v1/lms/files
          endpoint: minio:9000              # s3
          access_key: ... ; secret_key: ... ; secure: false ; region: us-east-1
    """
    backend = str(settings.get("backend") or "local")
    bucket = str(settings["bucket"])
    if backend == "local":
        root = Path(str(settings.get("root") or "var/objects"))
        if not root.is_absolute():
            from careeros_services.common.config import ROOT
            root = ROOT / root
        return LocalStorage(root, bucket, signing_secret=str(settings.get("signing_secret") or ""),
                            public_base_url=str(settings.get("public_base_url") or ""))
    if backend == "s3":
        return S3Storage(str(settings["endpoint"]), str(settings.get("access_key") or ""),
                         str(settings.get("secret_key") or ""), bucket,
                         secure=str(settings.get("secure")).lower() in ("1", "true", "yes"),
                         region=str(settings.get("region") or "") or None)
    raise ValueError(f"unknown storage backend {backend!r} (local | s3)")


def service_storage(config: dict, section: dict) -> ObjectStorage:
    """A service's store: the platform's ``object_storage`` settings under the service's own
    ``storage`` section (its bucket, link settings, and any override)."""
    return make_storage({**(config.get("object_storage") or {}), **section})


_storage_lock = threading.Lock()
_storages: dict[str, Any] = {}


def privacy_storage(config: Optional[dict] = None):
    """The privacy bucket (``privacy.storage`` over ``object_storage``), one per process and root."""
    config = config or load_config()
    section = (config.get("privacy") or {}).get("storage") or {"bucket": "careeros-privacy"}
    cache_key = json.dumps([config.get("object_storage"), section], sort_keys=True, default=str)
    with _storage_lock:
        if cache_key not in _storages:
            _storages[cache_key] = service_storage(config, section)
        return _storages[cache_key]
