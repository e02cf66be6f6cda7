"""The notifications service layer on the real PostgreSQL, with the real auth service answering
whom to write to, real SMTP to the embedded sink (aiosmtpd) and the real broker for the DLQ."""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

import pytest

from bus import contracts
from bus.dlq import DeadLetters
from careeros_services import cli
from careeros_services.auth.service import build as build_auth
from careeros_services.common.caller import Caller
from careeros_services.common.errors import ValidationFailed
from careeros_services.notifications import domain, sink
from careeros_services.notifications.service import NotificationsService

from tests.notifications.support import event_for, mail_to, register


def state_of(service: NotificationsService, event_id: str) -> dict:
    [row] = [r for r in service.list_messages(limit=1000) if r["event_id"] == event_id]
    return row


def test_sign_up_mails_a_verification_link_once_however_often_the_event_arrives(auth, notifications, smtp_config):
    email, user = register(auth)
    event = event_for(auth, "careeros.auth.user.verification_requested.v1", "user_id", user["user_id"])
    assert notifications.handle_event(event) is True
    assert notifications.handle_event(event) is False  # redelivered: the inbox drops it
    assert notifications.deliver_due(auth.contact) == {"sent": 1}
    assert notifications.deliver_due(auth.contact) == {}
    [message] = mail_to(smtp_config, email)
    assert message["Subject"] == "Confirm your e-mail address for CareerOS"
    assert message["Message-ID"] == f"<{event['id']}@careeros.local>"
    assert message["List-Unsubscribe"] is None  # required: no opting out
    text = sink.text_of(message)
    assert f"{notifications.web}/verify-email?token={event['payload']['token']}" in text  # the web client's page
    row = state_of(notifications, event["id"])
    assert (row["state"], row["attempts"]) == ("sent", 1)
    assert row["to_address"] == domain.masked_address(email) != email and row["to_address"].endswith("@example.com")
    assert auth.verify_email(event["payload"]["token"])["email_verified"] is True


def test_every_link_a_message_carries_opens_a_page_of_the_web_client(notifications):
    from werkzeug.exceptions import NotFound as NoRoute

    from web.app import create_app

    routes = create_app({"api_url": "http://127.0.0.1:9/api/v1"}).url_map.bind("web.test")
    payload = {"token": "t.k-n", "course_id": str(uuid.uuid4()), "certificate_id": str(uuid.uuid4())}
    links = {kind: notifications._link(kind, payload) for kind in domain.KINDS if kind != "export_ready"}
    links["assignment of a role"] = notifications._link("assignment", {"target_role": "Data analyst"})
    links["unsubscribe"] = notifications.unsubscribe_page_url("a.b")
    for kind, link in links.items():
        assert link.startswith(notifications.web + "/") and "/api/" not in link, kind
        try:
            routes.match(link[len(notifications.web):].split("?")[0], method="GET")
        except NoRoute:
            pytest.fail(f"{kind}: {link} is no page of the web client")


def test_an_invite_goes_to_the_invitee_with_the_accept_link_and_the_organisation_and_inviter_named(
        auth, notifications, smtp_config):
    _owner_email, owner = register(auth, organization_name="Acme Learning")
    invitee = f"i{uuid.uuid4().hex[:12]}@example.com"
    invite = auth.create_invite(Caller(owner["tenant_id"], owner["user_id"]), invitee, "member")
    event = event_for(auth, "careeros.auth.invite.created.v1", "invite_id", invite["invite_id"])
    assert "email" not in event["payload"]  # contact data stays in auth
    notifications.handle_event(event)
    notifications.deliver_due(auth.contact)
    [message] = mail_to(smtp_config, invitee)
    assert message["Subject"] == "Ada Lovelace invited you to Acme Learning on CareerOS"
    assert f"/invites/{invite['token']}" in sink.text_of(message)


def assignment_event(owner: dict, member_id: str) -> dict:
    return contracts.validate({
        "id": str(uuid.uuid4()), "type": "careeros.auth.assignment.created.v1", "version": 1,
        "occurred_at": datetime.now(timezone.utc).isoformat(), "producer": "auth", "tenant_id": owner["tenant_id"],
        "correlation_id": str(uuid.uuid4()), "causation_id": None, "aggregate_type": "assignment",
        "aggregate_id": str(uuid.uuid4()),
        "payload": {"assignment_id": str(uuid.uuid4()), "tenant_id": owner["tenant_id"], "user_id": member_id,
                    "course_id": "", "target_role": "Data analyst", "assigned_by": owner["user_id"], "due_at": ""}})


def test_optional_messages_carry_one_click_unsubscribe_which_turns_the_next_ones_off(auth, notifications,
                                                                                     smtp_config):
    email, owner = register(auth, organization_name="Acme Two")
    first = assignment_event(owner, owner["user_id"])
    notifications.handle_event(first)
    notifications.deliver_due(auth.contact)
    [message] = mail_to(smtp_config, email)[-1:]
    assert message["Subject"] == "New learning assigned to you at Acme Two"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")  # RFC 8058's one-click POST: the API's
    token = url.split("token=")[1]
    assert url == f"{notifications.web}/api/v1/notifications/unsubscribe?token={token}"
    # The link a person clicks opens the web client's page that asks first (a GET never unsubscribes).
    assert f"{notifications.web}/unsubscribe?token={token}" in sink.text_of(message)
    assert notifications.unsubscribe(token) == {"kind": "assignment", "enabled": False}
    assert notifications.get_preferences(Caller(owner["tenant_id"], owner["user_id"]))["assignment"] is False
    second = assignment_event(owner, owner["user_id"])
    notifications.handle_event(second)
    assert notifications.deliver_due(auth.contact) == {"skipped": 1}
    assert state_of(notifications, second["id"])["state"] == "skipped"
    assert len(mail_to(smtp_config, email)) == 1  # the first assignment only


def test_a_message_waits_while_smtp_is_down_then_dead_letters_and_a_replay_sends_it_once(
        auth, notifications, smtp_config, smtp_sink, config):
    email, user = register(auth)
    event = event_for(auth, "careeros.auth.user.verification_requested.v1", "user_id", user["user_id"])
    notifications.handle_event(event)
    smtp_sink.stop()
    try:
        for attempt in (1, 2):
            assert notifications.deliver_due(auth.contact) == {"unreachable": 1}
            row = state_of(notifications, event["id"])
            assert (row["state"], row["attempts"]) == ("queued", attempt) and row["last_error"]
        assert notifications.deliver_due(auth.contact) == {"unreachable": 1}
        assert state_of(notifications, event["id"])["state"] == "failed"
    finally:
        smtp_sink.start()
    assert mail_to(smtp_config, email) == []
    dead = DeadLetters(config)
    topic = contracts.dlq_topic(contracts.topic_for(event["type"], config["kafka"]["topic_prefix"]))
    [entry] = [e for e in dead.read(topic, pending_only=False) if e.summary()["event_id"] == event["id"]]
    assert entry.headers["dlq_consumer_group"].endswith(".notifications") and entry.headers["dlq_attempts"] == "3"
    # What `careeros dlq replay` re-publishes reaches the consumer again: the inbox claim was released.
    assert notifications.handle_event(contracts.decode(entry.value)) is True
    assert notifications.deliver_due(auth.contact) == {"sent": 1}
    assert len(mail_to(smtp_config, email)) == 1


def test_a_payment_receipt_attaches_the_invoice_as_pdf(auth, notifications, smtp_config):
    email, user = register(auth)
    invoice_id = str(uuid.uuid4())
    event = contracts.validate({
        "id": str(uuid.uuid4()), "type": "careeros.billing.payment.succeeded.v1", "version": 1,
        "occurred_at": datetime.now(timezone.utc).isoformat(), "producer": "billing", "tenant_id": user["tenant_id"],
        "correlation_id": str(uuid.uuid4()), "causation_id": None, "aggregate_type": "payment",
        "aggregate_id": invoice_id,
        "payload": {"invoice_id": invoice_id, "tenant_id": user["tenant_id"], "subscription_id": str(uuid.uuid4()),
                    "user_id": user["user_id"], "currency": "EUR", "total_minor": 1900, "paid_at": "2027-01-01T00:00:00Z",
                    "lines": [{"description": "Pro (monthly)", "amount_minor": 1900, "kind": "subscription"}]}})
    notifications.handle_event(event)
    notifications.deliver_due(auth.contact)
    [message] = [m for m in mail_to(smtp_config, email) if m["Subject"].startswith("Receipt")]
    assert message["Subject"] == "Receipt: 19.00 EUR paid to CareerOS"
    [pdf] = list(message.iter_attachments())
    assert pdf.get_filename() == f"invoice-{invoice_id}.pdf" and pdf.get_content().startswith(b"%PDF-")


def test_operators_see_counts_by_state_and_read_the_sinks_mail_with_the_careeros_command(
        notifications, smtp_config, monkeypatch, capsys):
    counts = notifications.counts()
    assert counts.get("sent", 0) >= 4 and counts.get("skipped", 0) >= 1
    assert all(r["state"] == "sent" for r in notifications.list_messages("sent"))
    with pytest.raises(ValidationFailed):
        notifications.list_messages("lost")
    monkeypatch.setenv("CAREEROS_SMTP_SINK_DIR", smtp_config["smtp"]["sink_dir"])
    cli.main(["notifications", "counts"])
    assert json.loads(capsys.readouterr().out) == notifications.counts()
    cli.main(["notifications", "list", "--state", "skipped"])
    assert {json.loads(line)["state"] for line in capsys.readouterr().out.splitlines()} == {"skipped"}
    cli.main(["mail", "list"])
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(listed) == len(list(sink.messages(smtp_config))) >= 4
    receipt = next(m for m in listed if m["subject"].startswith("Receipt"))
    cli.main(["mail", "show", receipt["id"]])
    shown = capsys.readouterr().out
    assert f"Subject: {receipt['subject']}" in shown and "Attachments: invoice-" in shown and "Total:" in shown


def test_deliveries_by_two_workers_at_once_send_each_message_once(auth, notifications, smtp_config):
    import threading

    emails = []
    for _ in range(6):
        email, user = register(auth)
        notifications.handle_event(event_for(auth, "careeros.auth.user.verification_requested.v1", "user_id",
                                             user["user_id"]))
        emails.append(email)
    workers = [threading.Thread(target=notifications.deliver_due, args=(auth.contact,)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    time.sleep(0.1)
    assert [len(mail_to(smtp_config, e)) for e in emails] == [1] * 6
