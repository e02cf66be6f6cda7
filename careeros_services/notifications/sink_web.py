"""The embedded SMTP sink's mailbox page (as Mailpit's or MailHog's UI): a read-only HTML list of
the messages the sink kept, newest first, and each message (its text part with clickable links,
its HTML part in a sandboxed frame, its raw source). For developers only: served by ``careeros
smtp-sink`` on ``smtp.sink_http_port`` (8025), bound to ``smtp.sink_bind`` (127.0.0.1).

Part of the sink process rather than of the web client, which talks to CareerOS only through /api/v1.
"""
from __future__ import annotations

import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote

from jinja2 import Environment
from markupsafe import Markup, escape

from careeros_services.notifications import sink
from careeros_services.notifications.settings import SmtpSettings

# Nothing of a message may run here: no script at all, and its HTML only inside a sandboxed srcdoc
# frame (no scripts, no forms, a unique origin), styles and inline images allowed.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_LINK = re.compile(r"https?://[^\s<>\"]+")

_PAGE = Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · CareerOS mailbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;line-height:1.4}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;padding:1rem}iframe{width:100%;height:32rem;border:1px solid #ccc}
dt{font-weight:600}dd{margin:0 0 .4rem 0}</style></head>
<body><header><p><a href="/">CareerOS mailbox</a> · what the embedded SMTP sink received (development only)</p></header>
<main>{% if message %}
<h1>{{ message.subject or "(no subject)" }}</h1>
<dl>{% for name, value in message.headers %}<dt>{{ name }}</dt><dd>{{ value }}</dd>{% endfor %}
{% if message.attachments %}<dt>Attachments</dt><dd>{{ message.attachments|join(", ") }}</dd>{% endif %}</dl>
<p><a href="/messages/{{ message.href }}.eml">Raw message</a></p>
<h2>Text</h2><pre>{{ message.text }}</pre>
{% if message.html %}<h2>HTML</h2><iframe title="The HTML part" sandbox srcdoc="{{ message.html }}"></iframe>{% endif %}
{% else %}
<h1>Mailbox</h1><p>{{ rows|length }} message(s), newest first.</p>
<table><thead><tr><th scope="col">Received</th><th scope="col">To</th><th scope="col">Subject</th></tr></thead><tbody>
{% for row in rows %}<tr><td>{{ row.date }}</td><td>{{ row.to }}</td><td><a href="/messages/{{ row.href }}">{{ row.subject or "(no subject)" }}</a></td></tr>
{% else %}<tr><td colspan="3">No mail yet.</td></tr>{% endfor %}</tbody></table>
{% endif %}</main></body></html>""")


def _linked(text: str) -> Markup:
    """The text part, escaped, with its links clickable (a verification link is one click away)."""
    out, last = [], 0
    for match in _LINK.finditer(text):
        out += [escape(text[last:match.start()]), Markup('<a href="{0}">{0}</a>').format(match.group(0))]
        last = match.end()
    return Markup("").join([*out, escape(text[last:])])


def _html_part(message) -> str:
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""


class _Mailbox(BaseHTTPRequestHandler):
    config: dict = {}
    server_version = "careeros-sink"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = self.path.split("?", 1)[0]
        if path == "/":
            rows = [{**sink.summary(key, m), "href": quote(key, safe="")} for key, m in sink.messages(self.config)]
            return self._send(_PAGE.render(title="Mailbox", rows=rows[::-1], message=None))
        if not path.startswith("/messages/"):
            return self._send("Not found", HTTPStatus.NOT_FOUND, "text/plain")
        key, raw = unquote(path[len("/messages/"):]), path.endswith(".eml")
        key = key[:-4] if raw else key
        try:
            message = sink.find(self.config, key) if key else None
        except KeyError:
            message = None
        if message is None:
            return self._send("No such message", HTTPStatus.NOT_FOUND, "text/plain")
        if raw:
            return self._send(message.as_string(), content_type="text/plain")
        view = {"subject": message["Subject"], "href": quote(key, safe=""), "text": _linked(sink.text_of(message)),
                "html": _html_part(message), "attachments": [p.get_filename() for p in message.iter_attachments()],
                "headers": [(h, message[h]) for h in ("From", "To", "Date", "Message-ID", "List-Unsubscribe",
                                                      "X-Sink-Rcpt-To") if message[h]]}
        return self._send(_PAGE.render(title=message["Subject"] or "Message", message=view, rows=[]))

    def _send(self, body: str, status: int = HTTPStatus.OK, content_type: str = "text/html") -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args) -> None:  # quiet: a developer's page, not an access log
        pass


def serve(config: dict, port: int) -> ThreadingHTTPServer:
    """Serve the mailbox page in a background thread; returns the server (``.shutdown()``)."""
    handler = type("Mailbox", (_Mailbox,), {"config": config})
    server = ThreadingHTTPServer((SmtpSettings.from_config(config).sink_bind or SmtpSettings.sink_bind, int(port)),
                                 handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="sink-web", daemon=True).start()
    return server
