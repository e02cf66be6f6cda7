"""The embedded SMTP sink: a real SMTP server (aiosmtpd) that accepts every message and keeps it
in a Maildir (``smtp.sink_dir``, default ``var/mail``), for development and tests.

``careeros smtp-sink`` runs it (``make run`` starts it as a process kind); ``careeros mail
list|show`` reads what it kept. Any mail client that reads a Maildir (mutt -f var/mail) works too.
Never exposed beyond 127.0.0.1 unless ``smtp.sink_bind`` says so.
"""
from __future__ import annotations

import email
import email.policy
import mailbox
import threading
from pathlib import Path
from typing import Iterator, Optional

from careeros_services.common.config import ROOT
from careeros_services.notifications.settings import SmtpSettings


def sink_dir(config: dict) -> Path:
    path = Path(SmtpSettings.from_config(config).sink_dir or SmtpSettings.sink_dir)
    return path if path.is_absolute() else ROOT / path


class _KeepInMaildir:
    """aiosmtpd handler: every DATA goes into the Maildir as it arrived (plus a Return-Path)."""

    def __init__(self, directory: Path):
        for part in ("tmp", "new", "cur"):  # Maildir(create=True) skips them when the folder exists
            (directory / part).mkdir(parents=True, exist_ok=True)
        self.maildir = mailbox.Maildir(str(directory), create=True)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.original_content or envelope.content
        with self.lock:
            self.maildir.add(mailbox.MaildirMessage(
                b"X-Sink-Rcpt-To: " + ", ".join(envelope.rcpt_tos).encode() + b"\r\n" + raw))
        return "250 Message accepted for delivery"


def start(config: dict, port: Optional[int] = None):
    """Start the sink in a background thread; returns the aiosmtpd controller (``.stop()``)."""
    from aiosmtpd.controller import Controller

    smtp = SmtpSettings.from_config(config)
    controller = Controller(_KeepInMaildir(sink_dir(config)), hostname=smtp.sink_bind or SmtpSettings.sink_bind,
                            port=port if port is not None else smtp.port, decode_data=False,
                            data_size_limit=26_214_400)
    controller.start()
    return controller


# --- reading what was kept -----------------------------------------------------------------------

def messages(config: dict) -> Iterator[tuple[str, email.message.EmailMessage]]:
    """``(key, message)`` of every kept message, oldest first."""
    directory = sink_dir(config)
    if not directory.exists():
        return
    box = mailbox.Maildir(str(directory), factory=None, create=False)
    keyed = []
    for key in box.keys():
        path = Path(directory) / ("new" if (Path(directory) / "new" / key).exists() else "cur") / key
        keyed.append((path.stat().st_mtime if path.exists() else 0, key))
    for _mtime, key in sorted(keyed):
        with box.get_file(key) as handle:
            yield key, email.message_from_binary_file(handle, policy=email.policy.default)


def summary(key: str, message: email.message.EmailMessage) -> dict:
    return {"id": key, "date": message["Date"], "from": message["From"], "to": message["To"],
            "subject": message["Subject"], "message_id": message["Message-ID"]}


def text_of(message: email.message.EmailMessage) -> str:
    """The plain-text body (what ``careeros mail show`` prints)."""
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""


def find(config: dict, key: str) -> email.message.EmailMessage:
    for found, message in messages(config):
        if found == key or found.startswith(key):
            return message
    raise KeyError(f"no message {key} in {sink_dir(config)}")
