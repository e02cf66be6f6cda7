"""Pure rules of notifications: which event makes which message, templates, tokens, backoff."""
from __future__ import annotations

import email
import email.policy
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from bus import contracts
from careeros_services.common.errors import NotFound, ValidationFailed
from careeros_services.notifications import domain, rendering

CONTEXT = {
    "p": {"token": "tok", "expires_at": "2027-01-01T00:00:00+00:00", "org_role": "member", "course_id": "c-1",
          "target_role": "Data analyst", "due_at": "", "course_title": "SQL <basics>", "invoice_id": "inv-1",
          "paid_at": "2027-01-01", "currency": "EUR", "total_minor": 1999, "plan": "pro", "attempt": 2,
          "next_retry_at": "2027-01-03", "lines": [{"description": "Pro plan", "amount_minor": 1999,
                                                    "kind": "subscription"}],
          "week_start": "2026-11-16", "week_end": "2026-11-22", "lessons_completed": 2, "courses_completed": 1,
          "minutes": 30, "activities": 5, "active_days": 2, "milestones": ["SQL"], "streak_weeks": 3,
          "next_is_course": True, "next_course_percent": 40, "next_url": "http://x/app/learn/c-1"},
    "name": "Ada <script>", "org": "Acme & Co", "inviter": "Bob", "link": "http://x/l?token=tok",
    "unsubscribe_url": None,
}


def test_every_kind_is_caused_by_an_event_type_that_has_a_contract_or_by_the_digest_timer():
    assert {kind.event_type for kind in domain.KINDS.values() if kind.event_type} <= set(contracts.known_types())
    assert set(domain.ACTIVITY_EVENTS) <= set(contracts.known_types())
    assert [k.name for k in domain.KINDS.values() if not k.event_type] == ["weekly_digest"]
    assert "weekly_digest" in domain.OPTIONAL_KINDS


@pytest.mark.parametrize("kind", sorted(domain.KINDS))
def test_every_kind_renders_a_subject_a_text_and_an_html_body_with_its_link(kind):
    subject, text, html = rendering.render(kind, CONTEXT)
    assert subject and "\n" not in subject
    assert "<html" in html and "<html" not in text
    if kind != "payment_receipt":  # the receipt links nowhere: the invoice is attached
        assert "http://x/l?token=tok" in text and 'href="http://x/l?token=tok"' in html


def test_html_escapes_what_people_typed_and_text_keeps_it_verbatim():
    _subject, text, html = rendering.render("certificate_issued", CONTEXT)
    assert "Ada <script>" in text and "Ada &lt;script&gt;" in html and "<script>" not in html
    assert "Acme &amp; Co" in html and "SQL &lt;basics&gt;" in html


def test_the_organisation_is_named_only_for_organisations():
    assert domain.org_name({"tenant_name": "Acme", "tenant_kind": "organization"}) == "Acme"
    assert domain.org_name({"tenant_name": "Ada", "tenant_kind": "personal"}) is None
    _s, text, _h = rendering.render("assignment", {**CONTEXT, "org": None})
    assert " at " not in _s and "Acme" not in text


def test_a_dunning_step_says_when_the_next_attempt_is_and_the_last_one_says_the_plan_ends():
    subject, text, _ = rendering.render("payment_failed", CONTEXT)
    assert "attempt 2" in subject and "2027-01-03" in text
    last = {**CONTEXT, "p": {**CONTEXT["p"], "attempt": 4, "next_retry_at": ""}}
    subject, text, _ = rendering.render("payment_failed", last)
    assert "ends" in subject and "canceled" in text


def test_money_is_formatted_from_integer_minor_units():
    assert rendering.money(1999, "eur") == "19.99 EUR"
    assert rendering.money(-5, "USD") == "-0.05 USD"
    assert rendering.money(100000, "EUR") == "1000.00 EUR"


def test_the_receipt_pdf_is_a_pdf():
    assert rendering.invoice_pdf({**CONTEXT["p"], "lines": [{"description": "Pro plan – €", "amount_minor": 1,
                                                             "kind": "subscription"}],
          "week_start": "2026-11-16", "week_end": "2026-11-22", "lessons_completed": 2, "courses_completed": 1,
          "minutes": 30, "activities": 5, "active_days": 2, "milestones": ["SQL"], "streak_weeks": 3,
          "next_is_course": True, "next_course_percent": 40, "next_url": "http://x/app/learn/c-1"},
                                 "Acme", "Ada").startswith(b"%PDF-")


def test_an_optional_message_carries_one_click_unsubscribe_headers_and_a_required_one_does_not():
    optional = rendering.compose(sender="CareerOS <no-reply@x.test>", to="a@x.test", to_name="Ada", subject="s",
                                 text="t", html="<p>h</p>", message_id="<1@x.test>", unsubscribe_url="http://u/1")
    assert optional["List-Unsubscribe"] == "<http://u/1>"
    long_link = "http://u/" + "x" * 300
    wire = rendering.compose(sender="s@x.test", to="a@x.test", to_name="", subject="s", text="t", html="h",
                             message_id="<4@x.test>", unsubscribe_url=long_link).as_bytes()
    assert f"List-Unsubscribe: <{long_link}>".encode() in wire  # not folded: one line, no leading space
    assert optional["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    required = rendering.compose(sender="CareerOS <no-reply@x.test>", to="a@x.test", to_name="", subject="s",
                                 text="t", html="<p>h</p>", message_id="<2@x.test>")
    assert required["List-Unsubscribe"] is None and required["To"] == "a@x.test"
    assert [p.get_content_type() for p in required.get_payload()] == ["text/plain", "text/html"]


def test_non_ascii_names_and_subjects_survive_the_wire_format():
    raw = rendering.compose(sender="CareerOS <no-reply@x.test>", to="z@x.test", to_name="Zoë Ünal",
                            subject="Reçu: 19.00 €", text="Grüße", html="<p>Grüße</p>", message_id="<3@x.test>",
                            attachments=(("r.pdf", "application/pdf", b"%PDF-1.4"),)).as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert (parsed["Subject"], parsed["To"]) == ("Reçu: 19.00 €", "Zoë Ünal <z@x.test>")
    assert parsed.get_body(("plain",)).get_content().strip() == "Grüße"
    [pdf] = list(parsed.iter_attachments())
    assert (pdf.get_filename(), pdf.get_content()) == ("r.pdf", b"%PDF-1.4")


def test_unsubscribe_tokens_name_one_person_and_kind_and_cannot_be_forged():
    tenant, user = str(uuid.uuid4()), str(uuid.uuid4())
    token = domain.unsubscribe_token("s3cret", tenant, user, "assignment")
    assert domain.read_unsubscribe_token("s3cret", token) == (tenant, user, "assignment")
    for forged in (domain.unsubscribe_token("other", tenant, user, "assignment"), token + "x", "a.b", None, "x" * 400,
                   domain.unsubscribe_token("s3cret", tenant, user, "password_reset")):
        with pytest.raises(NotFound):
            domain.read_unsubscribe_token("s3cret", forged)


def test_preferences_accept_optional_kinds_and_refuse_required_or_unknown_ones_naming_each():
    assert domain.validate_preferences({"assignment": False}) == {"assignment": False}
    with pytest.raises(ValidationFailed) as refused:
        domain.validate_preferences({"password_reset": False, "nope": True, "certificate_issued": "no"})
    assert set(refused.value.fields) == {"password_reset", "nope", "certificate_issued"}
    assert "payment_receipt" not in domain.OPTIONAL_KINDS and "assignment" in domain.OPTIONAL_KINDS


def test_backoff_doubles_and_is_capped():
    now = datetime(2027, 1, 1, tzinfo=timezone.utc)
    gaps = [domain.next_attempt(now, n, 1.0, 10.0) - now for n in (1, 2, 3, 4, 5)]
    assert gaps == [timedelta(seconds=s) for s in (1, 2, 4, 8, 10)]


def test_the_message_id_is_the_same_on_every_attempt():
    assert domain.message_id_header("e-1", domain.from_domain("CareerOS <no-reply@careeros.test>")) == \
        "<e-1@careeros.test>"


def test_weeks_are_iso_weeks_in_utc_and_the_digest_is_about_the_last_complete_one():
    sunday_night = datetime(2026, 11, 22, 23, 30, tzinfo=timezone.utc)
    monday_early = datetime(2026, 11, 23, 0, 30, tzinfo=timezone(timedelta(hours=2)))  # Sunday 22:30 UTC
    assert domain.week_start(sunday_night) == domain.week_start(monday_early) == date(2026, 11, 16)
    assert domain.week_label(date(2026, 11, 16)) == "2026-W47"
    assert domain.digest_week(datetime(2026, 11, 23, 0, 1, tzinfo=timezone.utc)) == date(2026, 11, 16)
    assert domain.digest_week(sunday_night) == date(2026, 11, 9)
    assert domain.active_day_bit(sunday_night) == 1 << 6


def test_a_lesson_is_done_on_completed_or_passed_and_the_streak_counts_weeks_in_a_row():
    done = {"verb": "http://adlnet.gov/expapi/verbs/passed", "lesson_id": "l-1"}
    assert domain.lesson_done(done) == "l-1"
    assert domain.lesson_done({**done, "verb": "http://adlnet.gov/expapi/verbs/attempted"}) is None
    assert domain.lesson_done({**done, "lesson_id": ""}) is None
    week = date(2026, 11, 16)
    assert domain.streak_weeks([week, week - timedelta(days=7), week - timedelta(days=21)], week) == 2
    assert domain.streak_weeks([week - timedelta(days=7)], week) == 0


def test_the_digest_key_is_one_per_person_and_week():
    tenant, user, week = str(uuid.uuid4()), str(uuid.uuid4()), date(2026, 11, 16)
    assert domain.digest_event_id(tenant, user, week) == domain.digest_event_id(tenant, user, week)
    assert domain.digest_event_id(tenant, user, week) != domain.digest_event_id(tenant, user, date(2026, 11, 23))
