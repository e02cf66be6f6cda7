"""The notifications service's settings: the ``notifications`` and ``smtp`` sections, their
defaults in one place (config.yaml documents them); read once in ``build()`` (the sink and the
supervisor read ``smtp`` too), a bad value fails naming its key."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional

from careeros_services.common.settings import SettingsError, read


@dataclasses.dataclass(frozen=True)
class Settings:
    """The ``notifications`` section: delivery retries, batches, link signing."""

    max_attempts: int
    backoff_s: float
    max_backoff_s: float
    batch_size: int
    signing_secret: str
    concurrency: int = 1

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Settings":
        return read(cls, config, "notifications")


@dataclasses.dataclass(frozen=True)
class SmtpSettings:
    """The ``smtp`` section: the server mail goes to and the embedded sink (development)."""

    host: str
    port: int
    sender: str = dataclasses.field(metadata={"key": "from"})
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout_s: float = 10.0
    embedded_sink: bool = False
    sink_dir: str = "var/mail"
    sink_bind: str = "127.0.0.1"
    sink_http_port: str = ""   # the sink's mailbox page; empty: none

    def __post_init__(self) -> None:
        if self.sink_http_port.strip() and not self.sink_http_port.strip().isdigit():
            raise SettingsError(f"smtp.sink_http_port: expected a port number or nothing, got {self.sink_http_port!r}")

    @property
    def mailbox_port(self) -> Optional[int]:
        """The mailbox page's port, or None when there is no page."""
        return int(self.sink_http_port) if self.sink_http_port.strip() else None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "SmtpSettings":
        return read(cls, config, "smtp")


def check(config: Mapping[str, Any]) -> None:
    """Read every section notifications reads (``careeros run`` checks them before starting anything)."""
    Settings.from_config(config)
    SmtpSettings.from_config(config)
