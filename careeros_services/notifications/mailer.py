"""The SMTP client (``smtplib``) for whatever server ``smtp.*`` names: the embedded sink by default,
a real relay in production (STARTTLS and credentials from a Secret).

One connection per delivery batch: opened on first use, reused for every message of the batch,
closed at the end (or dropped after an error, so the next message opens a fresh one).
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import Message
from typing import Optional

from careeros_services.notifications.settings import SmtpSettings


class Mailer:
    """Sends MIME messages over SMTP with the ``smtp`` section of the configuration."""

    def __init__(self, settings: SmtpSettings):
        self.host, self.port = settings.host, settings.port
        self.username, self.password = settings.username, settings.password
        self.starttls, self.timeout_s = settings.starttls, settings.timeout_s
        self.sender = settings.sender
        self._smtp: Optional[smtplib.SMTP] = None

    def send(self, message: Message) -> None:
        """Hand one message to the server; raises ``OSError``/``smtplib.SMTPException`` when it did not take it."""
        try:
            self._connection().send_message(message)
        except (OSError, smtplib.SMTPException):
            self.close()
            raise

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
            self._smtp = smtp
        return self._smtp

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
