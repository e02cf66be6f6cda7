from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Caller(_message.Message):
    __slots__ = ("user_id", "tenant_id", "org_role", "plan_tier")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_ROLE_FIELD_NUMBER: _ClassVar[int]
    PLAN_TIER_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    tenant_id: str
    org_role: str
    plan_tier: str
    def __init__(self, user_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., org_role: _Optional[str] = ..., plan_tier: _Optional[str] = ...) -> None: ...
