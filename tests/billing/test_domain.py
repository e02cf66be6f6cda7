"""Billing rules without I/O: plans, proration to the cent, dunning, the state machine, signatures."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from careeros_services.billing import domain, payments
from careeros_services.common.errors import Conflict, ValidationFailed

UTC = timezone.utc
PLANS = domain.load_plans()
START = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)


def test_plans_decide_entitlements_and_prices_are_integers_in_minor_units():
    pro, team, free = PLANS["pro"], PLANS["team"], PLANS["free"]
    assert pro.amount("month", 1) == 1900 and pro.amount("year", 1) == 19_000
    assert team.amount("month", 5) == 7500 and team.amount("year", 5) == 75_000
    assert all(isinstance(v, int) for p in PLANS.values() for v in (p.monthly_minor, p.annual_minor))
    assert free.entitlements(0) == ["ai_quota:20", "ai_tokens:20000"]
    assert pro.entitlements(1) == ["premium_courses", "ai_quota:300", "ai_tokens:2000000"]
    assert team.entitlements(4) == ["premium_courses", "ai_quota:500", "ai_tokens:4000000", "seats:4"]
    assert (free.billed_seats(0), pro.billed_seats(1), team.billed_seats(7)) == (0, 1, 7)


def test_config_overrides_plans_but_refuses_floats():
    plans = domain.load_plans({"pro": {"monthly_minor": 2500}})
    assert plans["pro"].monthly_minor == 2500 and plans["team"].monthly_minor == 1500
    with pytest.raises(ValueError, match="minor units"):
        domain.load_plans({"pro": {"monthly_minor": 19.99}})


def test_check_choice_names_every_bad_field():
    with pytest.raises(ValidationFailed) as caught:
        domain.check_choice(PLANS, "free", "weekly", "3")
    assert set(caught.value.fields) == {"plan", "interval", "seats"}
    with pytest.raises(ValidationFailed) as caught:
        domain.check_choice(PLANS, "team", "month", 1)
    assert caught.value.fields == {"seats": ["must be between 2 and 1000 for team"]}
    assert domain.check_choice(PLANS, "team", "year", 3)[1:] == ("year", 3)


def test_monthly_periods_keep_the_anchor_day():
    end = domain.period_end(START, "month", 31)
    assert end == datetime(2026, 2, 28, 9, 30, tzinfo=UTC)
    assert domain.period_end(end, "month", 31) == datetime(2026, 3, 31, 9, 30, tzinfo=UTC)
    assert domain.period_end(START, "year") == datetime(2027, 1, 31, 9, 30, tzinfo=UTC)


def test_proration_of_an_upgrade_mid_period_to_the_cent():
    start = datetime(2026, 4, 1, tzinfo=UTC)
    end = datetime(2026, 5, 1, tzinfo=UTC)          # 30 days
    now = start + timedelta(days=10)                  # 20 of 30 days left
    lines = domain.proration_lines(PLANS["pro"], 1, PLANS["team"], 3, "month", start, end, now)
    assert [(line.amount_minor, line.kind) for line in lines] == [(-1267, "proration"), (3000, "proration")]
    # 1900 * 20/30 = 1266.67 -> 1267; 4500 * 20/30 = 3000 exactly
    assert domain.invoice_total(lines) == 1733


@settings(max_examples=300, deadline=None)
@given(amount=st.integers(min_value=0, max_value=10**9),
       cuts=st.lists(st.integers(min_value=0, max_value=30 * 24 * 3600 * 10**6), max_size=12),
       interval=st.sampled_from(domain.INTERVALS))
def test_shares_of_a_period_always_sum_to_its_price_to_the_cent(amount, cuts, interval):
    start = START
    end = domain.period_end(start, interval, start.day)
    points = sorted({start, end, *[min(start + timedelta(microseconds=c), end) for c in cuts]})
    shares = [domain.period_share(amount, start, end, a, b) for a, b in zip(points, points[1:])]
    assert sum(shares) == amount
    assert all(isinstance(s, int) and s >= 0 for s in shares)


@settings(max_examples=200, deadline=None)
@given(old_seats=st.integers(2, 50), new_seats=st.integers(2, 50),
       offset=st.integers(0, 28 * 24 * 3600))
def test_credit_plus_used_part_equals_what_was_paid(old_seats, new_seats, offset):
    """Whatever the change time, used part + credited unused part = the period's price."""
    start = datetime(2026, 2, 1, tzinfo=UTC)
    end = domain.period_end(start, "month", 1)
    now = start + timedelta(seconds=offset)
    team = PLANS["team"]
    paid = team.amount("month", old_seats)
    used = domain.period_share(paid, start, end, start, now)
    lines = domain.proration_lines(team, old_seats, team, new_seats, "month", start, end, now)
    credit = -sum(line.amount_minor for line in lines if line.amount_minor < 0)
    assert used + credit == paid


def test_usage_line_bills_tokens_above_the_allowance_rounded_up_per_thousand():
    pro = PLANS["pro"]
    assert domain.usage_line(pro, 1, 2_000_000) is None
    line = domain.usage_line(pro, 1, 2_000_001)
    assert (line.amount_minor, line.kind) == (1, "usage")           # 1 token over: 2/1000 -> ceil -> 1
    assert domain.usage_line(pro, 1, 2_500_000).amount_minor == 1000  # 500k tokens * 2 / 1000
    assert domain.usage_line(PLANS["team"], 3, 3_000_000) is None    # allowance scales per seat


def test_credit_is_used_up_to_the_invoice_total():
    lines = [domain.Line("x", 1900, "subscription")]
    used, left = domain.apply_credit(lines, 2500)
    assert domain.invoice_total(used) == 0 and left == 600
    used, left = domain.apply_credit(lines, 400)
    assert domain.invoice_total(used) == 1500 and left == 0


def test_dunning_schedule_and_giving_up():
    failed = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert domain.dunning_schedule(failed) == [failed + timedelta(days=d) for d in (1, 3, 5)]
    assert domain.next_retry(failed, 1) == failed + timedelta(days=1)
    assert domain.next_retry(failed, 3) == failed + timedelta(days=5)
    assert domain.next_retry(failed, 4) is None


@pytest.mark.parametrize("current,target,ok", [
    ("incomplete", "active", True), ("incomplete", "trialing", True), ("trialing", "active", True),
    ("active", "past_due", True), ("past_due", "active", True), ("past_due", "canceled", True),
    ("canceled", "active", False), ("incomplete", "incomplete", False), ("past_due", "trialing", False),
    ("active", "incomplete", False),
])
def test_state_machine(current, target, ok):
    if ok:
        assert domain.transition(current, target) == target
    else:
        with pytest.raises(Conflict) as caught:
            domain.transition(current, target)
        assert caught.value.code == "invalid_subscription_state"


def test_new_subscription_with_and_without_trial():
    sub = domain.new_subscription("s", "t", "u", PLANS["pro"], "month", 1, "pm_card_visa", "sandbox", START)
    assert (sub.status, sub.trial_end, sub.current_period_end) == (
        "incomplete", None, datetime(2026, 2, 28, 9, 30, tzinfo=UTC))
    trial = domain.new_subscription("s", "t", "u", PLANS["pro"], "month", 1, "pm_card_visa", "sandbox", START, 14)
    assert trial.trial_end == trial.current_period_end == START + timedelta(days=14)
    assert domain.renewed(trial).current_period_end == domain.period_end(trial.trial_end, "month")
    with pytest.raises(ValidationFailed) as caught:
        domain.new_subscription("s", "t", "u", PLANS["pro"], "month", 1, "pm", "sandbox", START, 365)
    assert list(caught.value.fields) == ["trial_days"]


def test_card_numbers_are_masked():
    assert domain.mask_payment_method("4242424242424242") == "card ending 4242"
    assert domain.mask_payment_method("pm_card_visa") == "pm_card_visa"


# --- webhook signatures (Stripe-Signature scheme) ----------------------------------------------

def test_signature_round_trip_and_tampering():
    body = b'{"id": "evt_1", "type": "payment_intent.succeeded"}'
    header = payments.sign(body, "whsec_a", 1_800_000_000)
    assert payments.verify(body, header, "whsec_a", now=1_800_000_010)["id"] == "evt_1"
    for bad_body, bad_header, secret, now in [
        (body + b" ", header, "whsec_a", 1_800_000_010),                      # body changed
        (body, header, "whsec_b", 1_800_000_010),                              # other secret
        (body, header, "whsec_a", 1_800_000_000 + 301),                        # too old (replay)
        (body, header.replace("t=1800000000", "t=1800000001"), "whsec_a", 1_800_000_010),  # timestamp swapped
        (body, "garbage", "whsec_a", 1_800_000_010),
    ]:
        with pytest.raises(payments.InvalidSignature):
            payments.verify(bad_body, bad_header, secret, now=now)


def test_any_v1_signature_may_match_during_secret_rotation():
    body = b'{"id": "evt_2", "type": "x"}'
    old = payments.sign(body, "whsec_old", 1_800_000_000)
    new = payments.sign(body, "whsec_new", 1_800_000_000)
    header = old + ",v1=" + new.split("v1=")[1]
    assert payments.verify(body, header, "whsec_new", now=1_800_000_000)["id"] == "evt_2"


def test_sandbox_cards_are_deterministic_and_idempotent():
    box = payments.SandboxProvider("whsec")
    ok = box.charge(amount_minor=100, currency="EUR", payment_method="pm_card_visa", idempotency_key="k1",
                    attempt=1, metadata={})
    again = box.charge(amount_minor=100, currency="EUR", payment_method="pm_card_visa", idempotency_key="k1",
                       attempt=1, metadata={})
    assert ok.succeeded and ok == again
    declined = box.charge(amount_minor=100, currency="EUR", payment_method="4000000000000002",
                          idempotency_key="k2", attempt=1, metadata={})
    assert (declined.status, declined.failure_code) == ("declined", "card_declined")
    first = box.charge(amount_minor=100, currency="EUR", payment_method="pm_card_retry", idempotency_key="k3:1",
                       attempt=1, metadata={})
    second = box.charge(amount_minor=100, currency="EUR", payment_method="pm_card_retry", idempotency_key="k3:2",
                        attempt=2, metadata={})
    assert (first.status, second.status) == ("retryable", "succeeded")
    with pytest.raises(ValidationFailed):
        box.check_payment_method("4111111111111111")


def test_switching_month_to_year_credits_the_rest_and_starts_a_new_cycle():
    start = datetime(2026, 4, 1, tzinfo=UTC)
    end = datetime(2026, 5, 1, tzinfo=UTC)
    now = start + timedelta(days=20)                  # 10 of 30 days unused
    lines, new_start, new_end = domain.interval_change_lines(PLANS["pro"], 1, "month", PLANS["pro"], 1, "year",
                                                             start, end, now)
    assert [(line.amount_minor, line.kind) for line in lines] == [(-633, "proration"), (19_000, "subscription")]
    assert (new_start, new_end) == (now, datetime(2027, 4, 21, tzinfo=UTC))
