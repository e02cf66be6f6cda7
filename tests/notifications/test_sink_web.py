"""The SMTP sink's mailbox page, over HTTP against a real `careeros smtp-sink` process: mail sent
to it with smtplib is listed newest first and shown (text with clickable links, HTML sandboxed)."""
from __future__ import annotations

import os
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from urllib.parse import quote

import pytest
import requests

from careeros_services.common.config import ROOT
from careeros_services.common.infra import free_port, port_open


@pytest.fixture(scope="module")
def running_sink(tmp_path_factory):
    smtp_port, http_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CAREEROS_SMTP_PORT": str(smtp_port),
           "CAREEROS_SMTP_SINK_HTTP_PORT": str(http_port),
           "CAREEROS_SMTP_SINK_DIR": str(tmp_path_factory.mktemp("mailbox"))}
    process = subprocess.Popen([sys.executable, "-m", "careeros_services.cli", "smtp-sink"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not (port_open(smtp_port) and port_open(http_port)):
        assert process.poll() is None and time.monotonic() < deadline, "the sink did not start"
        time.sleep(0.1)
    yield smtp_port, f"http://127.0.0.1:{http_port}"
    process.terminate()
    assert process.wait(15) == 0


def send(port: int, subject: str, text: str, html: str = "") -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "CareerOS <no-reply@careeros.local>", "ada@example.com", subject
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(message)


def test_the_mailbox_page_lists_newest_first_and_shows_a_message_without_running_any_of_it(running_sink):
    smtp_port, page = running_sink
    assert "No mail yet" in requests.get(page + "/", timeout=10).text
    send(smtp_port, "First <one>", "hello")
    time.sleep(0.05)  # the list orders by arrival time
    send(smtp_port, "Confirm your e-mail address", "Open http://127.0.0.1:8000/verify-email?token=a.b&x=1 now",
         html='<p onclick="x()">Hi <script>alert(1)</script><a href="http://e/x">go</a> "quoted"</p>')

    listing = requests.get(page + "/", timeout=10)
    assert listing.status_code == 200 and listing.headers["Content-Type"].startswith("text/html")
    assert "script-src" not in listing.headers["Content-Security-Policy"]  # default-src 'none': no script runs
    assert listing.text.index("Confirm your e-mail address") < listing.text.index("First &lt;one&gt;")
    [href] = [line.split('href="')[1].split('"')[0] for line in listing.text.splitlines()
              if "Confirm your e-mail address" in line]

    shown = requests.get(page + href, timeout=10)
    assert shown.status_code == 200
    # the text part, escaped, its link clickable
    assert ('<a href="http://127.0.0.1:8000/verify-email?token=a.b&amp;x=1">'
            'http://127.0.0.1:8000/verify-email?token=a.b&amp;x=1</a>') in shown.text
    # the HTML part only inside a sandboxed frame, as an escaped attribute: never markup of this page
    assert '<iframe title="The HTML part" sandbox srcdoc="&lt;p onclick=&#34;x()&#34;&gt;Hi &lt;script&gt;' in shown.text
    assert "<script>" not in shown.text and "<p onclick" not in shown.text
    raw = requests.get(page + href + ".eml", timeout=10)
    assert raw.headers["Content-Type"].startswith("text/plain") and "Subject: Confirm your e-mail address" in raw.text

    for missing in ("/messages/" + quote("nope:2,", safe=""), "/messages/", "/elsewhere"):
        assert requests.get(page + missing, timeout=10).status_code == 404
