"""The lms service's settings: the ``lms`` section, its defaults in one place (config.yaml
documents them); read once in ``build()`` (and by the gateway), a bad value fails naming its key."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from careeros_services.common.settings import LmsGatewaySettings, read


@dataclasses.dataclass(frozen=True)
class Settings(LmsGatewaySettings):
    """The ``lms`` section (``max_upload_bytes`` and ``upload_chunk_bytes``: LmsGatewaySettings)."""

    download_url_ttl_s: int = 900
    certificate_url_ttl_s: int = 3600
    certificate_verify_base_url: str = ""
    storage: dict = dataclasses.field(
        default_factory=lambda: {"bucket": "careeros-lms", "signing_secret": "dev-only"})

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Settings":
        return read(cls, config, "lms")


def check(config: Mapping[str, Any]) -> None:
    """Read every section lms reads (``careeros run`` checks them before starting anything)."""
    Settings.from_config(config)
