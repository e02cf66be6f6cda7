"""Where uploaded CVs are kept: the platform's object storage (``common.storage``).

``ai_core.storage`` names the backend like every service's storage section:
``local`` (files under ``root/<bucket>``, the embedded default) or ``s3``
(MinIO/S3 through the ``minio`` client). CVs are private: ai_core never hands
out download links for them, so no public URL is configured.
"""
from __future__ import annotations

from careeros_services.common.storage import ObjectStorage, make_storage

DEFAULT_SETTINGS = {"backend": "local", "bucket": "careeros-ai", "root": "var/objects",
                    "signing_secret": "unused-no-links-are-issued"}


def build(config: dict) -> ObjectStorage:
    """The CV store named by ``ai_core.storage`` (local files when the section is absent)."""
    settings = {**DEFAULT_SETTINGS, **((config.get("ai_core") or {}).get("storage") or {})}
    return make_storage(settings)
