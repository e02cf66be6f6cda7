from contracts.grpc import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Plan(_message.Message):
    __slots__ = ("code", "name", "pricing", "currency", "monthly_minor", "annual_minor", "min_seats", "max_seats", "entitlements", "ai_tokens_included", "overage_minor_per_1k", "ai_quota", "seats_included")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRICING_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_MINOR_FIELD_NUMBER: _ClassVar[int]
    ANNUAL_MINOR_FIELD_NUMBER: _ClassVar[int]
    MIN_SEATS_FIELD_NUMBER: _ClassVar[int]
    MAX_SEATS_FIELD_NUMBER: _ClassVar[int]
    ENTITLEMENTS_FIELD_NUMBER: _ClassVar[int]
    AI_TOKENS_INCLUDED_FIELD_NUMBER: _ClassVar[int]
    OVERAGE_MINOR_PER_1K_FIELD_NUMBER: _ClassVar[int]
    AI_QUOTA_FIELD_NUMBER: _ClassVar[int]
    SEATS_INCLUDED_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    pricing: str
    currency: str
    monthly_minor: int
    annual_minor: int
    min_seats: int
    max_seats: int
    entitlements: _containers.RepeatedScalarFieldContainer[str]
    ai_tokens_included: int
    overage_minor_per_1k: int
    ai_quota: int
    seats_included: int
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., pricing: _Optional[str] = ..., currency: _Optional[str] = ..., monthly_minor: _Optional[int] = ..., annual_minor: _Optional[int] = ..., min_seats: _Optional[int] = ..., max_seats: _Optional[int] = ..., entitlements: _Optional[_Iterable[str]] = ..., ai_tokens_included: _Optional[int] = ..., overage_minor_per_1k: _Optional[int] = ..., ai_quota: _Optional[int] = ..., seats_included: _Optional[int] = ...) -> None: ...

class ListPlansRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPlansResponse(_message.Message):
    __slots__ = ("plans",)
    PLANS_FIELD_NUMBER: _ClassVar[int]
    plans: _containers.RepeatedCompositeFieldContainer[Plan]
    def __init__(self, plans: _Optional[_Iterable[_Union[Plan, _Mapping]]] = ...) -> None: ...

class Subscription(_message.Message):
    __slots__ = ("id", "tenant_id", "plan", "interval", "seats", "status", "currency", "current_period_start", "current_period_end", "trial_end", "cancel_at_period_end", "canceled_at", "credit_minor", "next_retry_at", "payment_method")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CURRENT_PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    CURRENT_PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    TRIAL_END_FIELD_NUMBER: _ClassVar[int]
    CANCEL_AT_PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    CANCELED_AT_FIELD_NUMBER: _ClassVar[int]
    CREDIT_MINOR_FIELD_NUMBER: _ClassVar[int]
    NEXT_RETRY_AT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    plan: str
    interval: str
    seats: int
    status: str
    currency: str
    current_period_start: str
    current_period_end: str
    trial_end: str
    cancel_at_period_end: bool
    canceled_at: str
    credit_minor: int
    next_retry_at: str
    payment_method: str
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., plan: _Optional[str] = ..., interval: _Optional[str] = ..., seats: _Optional[int] = ..., status: _Optional[str] = ..., currency: _Optional[str] = ..., current_period_start: _Optional[str] = ..., current_period_end: _Optional[str] = ..., trial_end: _Optional[str] = ..., cancel_at_period_end: _Optional[bool] = ..., canceled_at: _Optional[str] = ..., credit_minor: _Optional[int] = ..., next_retry_at: _Optional[str] = ..., payment_method: _Optional[str] = ...) -> None: ...

class InvoiceLine(_message.Message):
    __slots__ = ("description", "amount_minor", "kind")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    description: str
    amount_minor: int
    kind: str
    def __init__(self, description: _Optional[str] = ..., amount_minor: _Optional[int] = ..., kind: _Optional[str] = ...) -> None: ...

class Invoice(_message.Message):
    __slots__ = ("id", "subscription_id", "status", "reason", "currency", "total_minor", "period_start", "period_end", "issued_at", "paid_at", "lines")
    ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MINOR_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    PAID_AT_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    id: str
    subscription_id: str
    status: str
    reason: str
    currency: str
    total_minor: int
    period_start: str
    period_end: str
    issued_at: str
    paid_at: str
    lines: _containers.RepeatedCompositeFieldContainer[InvoiceLine]
    def __init__(self, id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., status: _Optional[str] = ..., reason: _Optional[str] = ..., currency: _Optional[str] = ..., total_minor: _Optional[int] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., issued_at: _Optional[str] = ..., paid_at: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[InvoiceLine, _Mapping]]] = ...) -> None: ...

class PaymentOutcome(_message.Message):
    __slots__ = ("status", "failure_code", "failure_message")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FAILURE_CODE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    status: str
    failure_code: str
    failure_message: str
    def __init__(self, status: _Optional[str] = ..., failure_code: _Optional[str] = ..., failure_message: _Optional[str] = ...) -> None: ...

class SubscriptionState(_message.Message):
    __slots__ = ("subscription", "latest_invoice", "payment")
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LATEST_INVOICE_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    latest_invoice: Invoice
    payment: PaymentOutcome
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ..., latest_invoice: _Optional[_Union[Invoice, _Mapping]] = ..., payment: _Optional[_Union[PaymentOutcome, _Mapping]] = ...) -> None: ...

class SubscriptionView(_message.Message):
    __slots__ = ("subscription", "plan", "seats", "entitlements")
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    ENTITLEMENTS_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    plan: str
    seats: int
    entitlements: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ..., plan: _Optional[str] = ..., seats: _Optional[int] = ..., entitlements: _Optional[_Iterable[str]] = ...) -> None: ...

class StartSubscriptionRequest(_message.Message):
    __slots__ = ("caller", "plan", "interval", "seats", "payment_method", "trial_days")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    TRIAL_DAYS_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    plan: str
    interval: str
    seats: int
    payment_method: str
    trial_days: int
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., plan: _Optional[str] = ..., interval: _Optional[str] = ..., seats: _Optional[int] = ..., payment_method: _Optional[str] = ..., trial_days: _Optional[int] = ...) -> None: ...

class GetSubscriptionRequest(_message.Message):
    __slots__ = ("caller",)
    CALLER_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ...) -> None: ...

class ChangeSubscriptionRequest(_message.Message):
    __slots__ = ("caller", "plan", "seats", "payment_method", "interval")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    plan: str
    seats: int
    payment_method: str
    interval: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., plan: _Optional[str] = ..., seats: _Optional[int] = ..., payment_method: _Optional[str] = ..., interval: _Optional[str] = ...) -> None: ...

class CancelSubscriptionRequest(_message.Message):
    __slots__ = ("caller", "at_period_end")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    AT_PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    at_period_end: bool
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., at_period_end: _Optional[bool] = ...) -> None: ...

class ListInvoicesRequest(_message.Message):
    __slots__ = ("caller", "limit")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    limit: int
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class ListInvoicesResponse(_message.Message):
    __slots__ = ("invoices",)
    INVOICES_FIELD_NUMBER: _ClassVar[int]
    invoices: _containers.RepeatedCompositeFieldContainer[Invoice]
    def __init__(self, invoices: _Optional[_Iterable[_Union[Invoice, _Mapping]]] = ...) -> None: ...

class HandleWebhookRequest(_message.Message):
    __slots__ = ("provider", "payload", "signature")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    provider: str
    payload: bytes
    signature: str
    def __init__(self, provider: _Optional[str] = ..., payload: _Optional[bytes] = ..., signature: _Optional[str] = ...) -> None: ...

class HandleWebhookResponse(_message.Message):
    __slots__ = ("received", "applied", "duplicate")
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    received: bool
    applied: bool
    duplicate: bool
    def __init__(self, received: _Optional[bool] = ..., applied: _Optional[bool] = ..., duplicate: _Optional[bool] = ...) -> None: ...
