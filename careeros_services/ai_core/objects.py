"""Where uploaded CVs are kept: the platform's object storage (``common.storage``).

The backend is the platform's ``object_storage`` (``local`` files under
``root/<bucket>``, the embedded default, or ``s3``: MinIO/S3 through the ``minio``
client); ``ai_core.storage`` names the bucket. CVs are private: ai_core never hands
out download links for them, so no public URL is configured.
"""
from __future__ import annotations

from careeros_services.ai_core.settings import Settings
from careeros_services.common.storage import ObjectStorage, service_storage

DEFAULT_SETTINGS = {"bucket": "careeros-ai", "signing_secret": "unused-no-links-are-issued"}


def build(config: dict) -> ObjectStorage:
    """The CV store: ``object_storage`` with ``ai_core.storage`` (its bucket) on top."""
    return service_storage(config, {**DEFAULT_SETTINGS, **Settings.from_config(config).storage})
