"""Billing rules: plans, periods, proration, dunning, invoices, the subscription state machine.

Pure Python, no I/O. Money is always an ``int`` of minor units (cents) with a
currency beside it; nothing here ever holds money in a float. Proration is
computed with integer arithmetic on microseconds so that the pieces of a
period always add up to the period's price exactly (see :func:`period_share`).
"""
from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Iterable, Mapping, Optional

from careeros_services.common import plans as plan_catalogue
from careeros_services.common.errors import Conflict, ValidationFailed

PLAN_CODES = ("free", "pro", "team")
INTERVALS = ("month", "year")
PRICINGS = ("free", "per_user", "per_seat")
# Ids derived from our own keys (uuid5): a repeated trigger or renewal finds the same saga or invoice.
NAMESPACE = uuid.UUID("9b0f3f4e-7a43-4c38-9a51-6d2f1c1e0b11")

# --- plans -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """One plan of the catalogue. Prices are per user (pro) or per seat (team), in minor units."""

    code: str
    name: str
    pricing: str
    currency: str
    monthly_minor: int
    annual_minor: int
    premium_courses: bool
    ai_quota: int                 # AI answers per user per month (-1: unlimited), enforced by ai_core
    ai_tokens_included: int       # tokens included per period (per seat for team) before usage lines
    overage_minor_per_1k: int     # price of 1,000 tokens above the allowance, minor units
    seats_included: int = 0       # organisation seats without a per-seat purchase, enforced by auth
    min_seats: int = 1
    max_seats: int = 1

    def unit_price(self, interval: str) -> int:
        return self.monthly_minor if interval == "month" else self.annual_minor

    def amount(self, interval: str, seats: int) -> int:
        """The price of one period (seats only multiply per-seat plans)."""
        return self.unit_price(interval) * (seats if self.pricing == "per_seat" else 1)

    def billed_seats(self, seats: int) -> int:
        """Seats as auth sees them: 0 for plans without seats."""
        return seats if self.pricing == "per_seat" else (1 if self.pricing == "per_user" else 0)

    def entitlements(self, seats: int) -> list[str]:
        """What the plan grants, as strings for ``entitlement.changed``."""
        multiplier = seats if self.pricing == "per_seat" else 1
        granted = ["premium_courses"] if self.premium_courses else []
        granted.append(f"ai_quota:{self.ai_quota}")  # per user, as ai_core counts it
        granted.append(f"ai_tokens:{self.ai_tokens_included * multiplier}")
        if self.pricing == "per_seat":
            granted.append(f"seats:{seats}")
        return granted

    def token_allowance(self, seats: int) -> int:
        return self.ai_tokens_included * (seats if self.pricing == "per_seat" else 1)

    def to_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "pricing": self.pricing, "currency": self.currency,
                "monthly_minor": self.monthly_minor, "annual_minor": self.annual_minor,
                "min_seats": self.min_seats, "max_seats": self.max_seats,
                "entitlements": self.entitlements(self.min_seats),
                "ai_tokens_included": self.ai_tokens_included,
                "overage_minor_per_1k": self.overage_minor_per_1k,
                "ai_quota": self.ai_quota, "seats_included": self.seats_included}


def load_plans(overrides: Optional[Mapping[str, Mapping]] = None) -> dict[str, Plan]:
    """The catalogue (contracts/plans.yaml through common.plans) with ``overrides`` (from config) applied
    and checked."""
    plans = {}
    catalogue = plan_catalogue.load(overrides)
    for code in PLAN_CODES:
        plan = Plan(code=code, **catalogue[code])
        for name in ("monthly_minor", "annual_minor", "ai_quota", "ai_tokens_included", "overage_minor_per_1k",
                     "seats_included", "min_seats", "max_seats"):
            value = getattr(plan, name)
            floor = plan_catalogue.UNLIMITED if name == "ai_quota" else 0
            if isinstance(value, bool) or not isinstance(value, int) or value < floor:
                raise ValueError(f"plan {code}: {name} must be a non-negative integer (minor units)")
        if plan.pricing not in PRICINGS or len(plan.currency) != 3 or plan.min_seats > plan.max_seats:
            raise ValueError(f"plan {code}: bad pricing, currency or seat range")
        plans[code] = plan
    return plans


def check_choice(plans: Mapping[str, Plan], plan_code: object, interval: object, seats: object) -> tuple[Plan, str, int]:
    """Validate a requested (plan, interval, seats) for a paid subscription; names every bad field."""
    errors: dict[str, list[str]] = {}
    plan = plans.get(plan_code) if isinstance(plan_code, str) else None
    if plan is None or plan.pricing == "free":
        errors["plan"] = [f"must be one of {', '.join(c for c, p in plans.items() if p.pricing != 'free')}"]
    if interval not in INTERVALS:
        errors["interval"] = ["must be month or year"]
    if isinstance(seats, bool) or not isinstance(seats, int):
        errors["seats"] = ["must be an integer"]
    elif plan is not None and not plan.min_seats <= seats <= plan.max_seats:
        errors["seats"] = [f"must be between {plan.min_seats} and {plan.max_seats} for {plan.code}"]
    if errors:
        raise ValidationFailed("The subscription request has invalid fields.", fields=errors)
    return plan, str(interval), int(seats)


# --- periods ---------------------------------------------------------------------------------


def add_months(moment: datetime, months: int, anchor_day: Optional[int] = None) -> datetime:
    """``moment`` plus whole calendar months, keeping the anchor day (clamped to the month's end)."""
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    day = min(anchor_day or moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def period_end(start: datetime, interval: str, anchor_day: Optional[int] = None) -> datetime:
    return add_months(start, 1 if interval == "month" else 12, anchor_day)


# --- proration: integers only ----------------------------------------------------------------

_MICRO = timedelta(microseconds=1)


def _cumulative(amount: int, start: datetime, end: datetime, at: datetime) -> int:
    """The part of ``amount`` earned from ``start`` to ``at``, rounded half up to the minor unit."""
    total = (end - start) // _MICRO
    elapsed = min(max((at - start) // _MICRO, 0), total)
    return (2 * amount * elapsed + total) // (2 * total)


def period_share(amount: int, start: datetime, end: datetime, t0: datetime, t1: datetime) -> int:
    """The part of a period's ``amount`` for ``[t0, t1)``.

    Defined as a difference of cumulative amounts, so consecutive shares
    telescope: cutting a period anywhere, any number of times, the shares add
    up to ``amount`` to the minor unit (no cent lost or made by rounding).
    """
    return _cumulative(amount, start, end, t1) - _cumulative(amount, start, end, t0)


@dataclass(frozen=True)
class Line:
    """One invoice line (amount in minor units; negative for credits)."""

    description: str
    amount_minor: int
    kind: str   # subscription | proration | usage | credit

    def to_dict(self) -> dict:
        return {"description": self.description, "amount_minor": self.amount_minor, "kind": self.kind}


def proration_lines(old: Plan, old_seats: int, new: Plan, new_seats: int, interval: str,
                    start: datetime, end: datetime, now: datetime) -> list[Line]:
    """Credit for the unused rest of the old plan and the charge for the rest on the new one."""
    unused = period_share(old.amount(interval, old_seats), start, end, now, end)
    remaining = period_share(new.amount(interval, new_seats), start, end, now, end)
    lines = []
    if unused:
        lines.append(Line(f"Unused time on {old.name} ({_seats_text(old, old_seats)})", -unused, "proration"))
    if remaining:
        lines.append(Line(f"Remaining time on {new.name} ({_seats_text(new, new_seats)})", remaining, "proration"))
    return lines


def interval_change_lines(old: Plan, old_seats: int, old_interval: str, new: Plan, new_seats: int,
                          new_interval: str, start: datetime, end: datetime,
                          now: datetime) -> tuple[list[Line], datetime, datetime]:
    """Switching month <-> year restarts the billing cycle now (as Stripe does): credit for the
    unused rest of the old period, the full new period from now. Returns (lines, new start, new end)."""
    unused = period_share(old.amount(old_interval, old_seats), start, end, now, end)
    new_end = period_end(now, new_interval, now.day)
    lines = [Line(f"Unused time on {old.name} {old_interval}ly ({_seats_text(old, old_seats)})", -unused, "proration")
             ] if unused else []
    lines.append(subscription_line(new, new_interval, new_seats, now, new_end))
    return lines, now, new_end


def _seats_text(plan: Plan, seats: int) -> str:
    return f"{seats} seats" if plan.pricing == "per_seat" else "1 user"


def subscription_line(plan: Plan, interval: str, seats: int, start: datetime, end: datetime) -> Line:
    return Line(f"{plan.name} {interval}ly, {_seats_text(plan, seats)}, "
                f"{start.date().isoformat()} to {end.date().isoformat()}",
                plan.amount(interval, seats), "subscription")


def usage_line(plan: Plan, seats: int, tokens_used: int) -> Optional[Line]:
    """The usage line for AI tokens above the plan's allowance (rounded up per started 1,000), or None."""
    over = max(0, tokens_used - plan.token_allowance(seats))
    amount = -(-over * plan.overage_minor_per_1k // 1000)  # ceiling division, integers only
    if over <= 0 or amount <= 0:
        return None
    return Line(f"AI tokens above the allowance: {over} tokens", amount, "usage")


def apply_credit(lines: list[Line], credit_minor: int) -> tuple[list[Line], int]:
    """Use a credit balance against the lines' total; returns (lines, credit left)."""
    total = sum(line.amount_minor for line in lines)
    used = min(max(total, 0), credit_minor)
    if used <= 0:
        return lines, credit_minor
    return lines + [Line("Credit balance applied", -used, "credit")], credit_minor - used


def invoice_total(lines: Iterable[Line]) -> int:
    return sum(line.amount_minor for line in lines)


# --- invoices --------------------------------------------------------------------------------

class InvoiceStatus:
    """An invoice's states (plain strings: they are stored and sent as they are)."""

    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"
    REFUNDED = "refunded"


INVOICE_STATUSES = (InvoiceStatus.DRAFT, InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.VOID,
                    InvoiceStatus.UNCOLLECTIBLE, InvoiceStatus.REFUNDED)
# An issued invoice's lines and amounts never change; only its status moves along these edges.
INVOICE_TRANSITIONS = {
    InvoiceStatus.DRAFT: {InvoiceStatus.OPEN, InvoiceStatus.VOID},
    InvoiceStatus.OPEN: {InvoiceStatus.PAID, InvoiceStatus.VOID, InvoiceStatus.UNCOLLECTIBLE},
    InvoiceStatus.UNCOLLECTIBLE: {InvoiceStatus.PAID, InvoiceStatus.VOID},
    InvoiceStatus.PAID: {InvoiceStatus.REFUNDED},
    InvoiceStatus.VOID: set(),
    InvoiceStatus.REFUNDED: set(),
}


class PaymentStatus:
    """What a charge came to (the provider's answer, then our refund)."""

    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    RETRYABLE = "retryable"   # the provider may accept a later attempt (e.g. 3-D Secure pending)
    REFUNDED = "refunded"


class SagaStatus:
    """Where a billing saga is (see activation_saga.py)."""

    RUNNING = "running"
    COMPENSATING = "compensating"
    COMPENSATED = "compensated"
    COMPLETED = "completed"


# --- the subscription state machine ----------------------------------------------------------

class SubscriptionStatus:
    """A subscription's states; TRANSITIONS below is the machine."""

    INCOMPLETE = "incomplete"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"


_S = SubscriptionStatus
STATUSES = (_S.INCOMPLETE, _S.TRIALING, _S.ACTIVE, _S.PAST_DUE, _S.CANCELED)
TRANSITIONS = {
    _S.INCOMPLETE: {_S.ACTIVE, _S.TRIALING, _S.PAST_DUE, _S.CANCELED},
    _S.TRIALING: {_S.ACTIVE, _S.PAST_DUE, _S.CANCELED},
    _S.ACTIVE: {_S.ACTIVE, _S.PAST_DUE, _S.CANCELED},
    _S.PAST_DUE: {_S.ACTIVE, _S.CANCELED},
    _S.CANCELED: set(),
}
# Statuses that keep the plan's entitlements (past_due: during dunning, as at Stripe).
ENTITLED = frozenset({_S.TRIALING, _S.ACTIVE, _S.PAST_DUE})
# Statuses that can change plan, renew at period end, or be canceled at period end.
RUNNING = frozenset({_S.ACTIVE, _S.TRIALING})


class InvalidTransition(Conflict):
    code = "invalid_subscription_state"


def transition(current: str, target: str) -> str:
    """The new status, or InvalidTransition (409) naming both."""
    if target not in TRANSITIONS.get(current, set()):
        raise InvalidTransition(f"A subscription cannot go from {current} to {target}.",
                                fields={"status": [f"is {current}"]})
    return target


# --- dunning ---------------------------------------------------------------------------------

DEFAULT_DUNNING_DAYS = (1, 3, 5)


def dunning_schedule(first_failed_at: datetime, retry_days: Iterable[int] = DEFAULT_DUNNING_DAYS) -> list[datetime]:
    """When failed payments are retried, counted from the first failure."""
    return [first_failed_at + timedelta(days=d) for d in retry_days]


def next_retry(first_failed_at: datetime, failures: int,
               retry_days: Iterable[int] = DEFAULT_DUNNING_DAYS) -> Optional[datetime]:
    """The retry after ``failures`` failed attempts (the first one included), or None: give up."""
    schedule = dunning_schedule(first_failed_at, retry_days)
    return schedule[failures - 1] if 1 <= failures <= len(schedule) else None


# --- the subscription aggregate --------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    id: str
    tenant_id: str
    user_id: str
    plan: str
    interval: str
    seats: int
    status: str
    currency: str
    payment_method: str
    provider: str
    current_period_start: datetime
    current_period_end: datetime
    anchor_day: int
    trial_end: Optional[datetime] = None
    cancel_at_period_end: bool = False
    canceled_at: Optional[datetime] = None
    credit_minor: int = 0
    dunning_failures: int = 0
    first_failed_at: Optional[datetime] = None
    next_retry_at: Optional[datetime] = None
    provider_customer: str = ""   # the provider's customer (Stripe: cus_...) holding the payment method
    version: int = 1
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        iso = lambda m: m.isoformat() if m else None  # noqa: E731
        return {"id": self.id, "tenant_id": self.tenant_id, "user_id": self.user_id, "plan": self.plan,
                "interval": self.interval, "seats": self.seats, "status": self.status,
                "currency": self.currency, "current_period_start": iso(self.current_period_start),
                "current_period_end": iso(self.current_period_end), "trial_end": iso(self.trial_end),
                "cancel_at_period_end": self.cancel_at_period_end, "canceled_at": iso(self.canceled_at),
                "credit_minor": self.credit_minor, "next_retry_at": iso(self.next_retry_at),
                "payment_method": mask_payment_method(self.payment_method)}

    def with_status(self, target: str) -> "Subscription":
        return replace(self, status=transition(self.status, target))


def mask_payment_method(method: str) -> str:
    """Never echo a full card number; payment-method ids are shown as they are."""
    digits = "".join(ch for ch in method if ch.isdigit())
    return f"card ending {digits[-4:]}" if len(digits) >= 12 and digits == method else method


def new_subscription(sub_id: str, tenant_id: str, user_id: str, plan: Plan, interval: str, seats: int,
                     payment_method: str, provider: str, now: datetime, trial_days: int = 0) -> Subscription:
    """A subscription waiting for its first payment (``incomplete``) or its trial saga."""
    if isinstance(trial_days, bool) or not isinstance(trial_days, int) or not 0 <= trial_days <= 90:
        raise ValidationFailed("Bad trial.", fields={"trial_days": ["must be an integer between 0 and 90"]})
    if not isinstance(payment_method, str) or not 1 <= len(payment_method) <= 100:
        raise ValidationFailed("Bad payment method.", fields={"payment_method": ["is required"]})
    trial_end = now + timedelta(days=trial_days) if trial_days else None
    start = now
    end = trial_end or period_end(start, interval, start.day)
    return Subscription(id=sub_id, tenant_id=tenant_id, user_id=user_id, plan=plan.code, interval=interval,
                        seats=seats, status=SubscriptionStatus.INCOMPLETE, currency=plan.currency, payment_method=payment_method,
                        provider=provider, current_period_start=start, current_period_end=end,
                        anchor_day=(trial_end or start).day, trial_end=trial_end, created_at=now, updated_at=now)


def renewed(sub: Subscription) -> Subscription:
    """The next period (the end of a trial starts the first paid period)."""
    start = sub.current_period_end
    return replace(sub, current_period_start=start,
                   current_period_end=period_end(start, sub.interval, sub.anchor_day))


ROLES_THAT_MANAGE_BILLING = ("owner", "admin")
