from google.protobuf import field_mask_pb2 as _field_mask_pb2
from contracts.grpc import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Skill(_message.Message):
    __slots__ = ("name", "level", "esco_uri")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    ESCO_URI_FIELD_NUMBER: _ClassVar[int]
    name: str
    level: int
    esco_uri: str
    def __init__(self, name: _Optional[str] = ..., level: _Optional[int] = ..., esco_uri: _Optional[str] = ...) -> None: ...

class Profile(_message.Message):
    __slots__ = ("user_id", "tenant_id", "display_name", "headline", "current_role", "target_role", "years_experience", "skills", "interests", "learning_pace", "created_at", "updated_at", "version")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    HEADLINE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_ROLE_FIELD_NUMBER: _ClassVar[int]
    TARGET_ROLE_FIELD_NUMBER: _ClassVar[int]
    YEARS_EXPERIENCE_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    INTERESTS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_PACE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    tenant_id: str
    display_name: str
    headline: str
    current_role: str
    target_role: str
    years_experience: int
    skills: _containers.RepeatedCompositeFieldContainer[Skill]
    interests: _containers.RepeatedScalarFieldContainer[str]
    learning_pace: str
    created_at: str
    updated_at: str
    version: int
    def __init__(self, user_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., display_name: _Optional[str] = ..., headline: _Optional[str] = ..., current_role: _Optional[str] = ..., target_role: _Optional[str] = ..., years_experience: _Optional[int] = ..., skills: _Optional[_Iterable[_Union[Skill, _Mapping]]] = ..., interests: _Optional[_Iterable[str]] = ..., learning_pace: _Optional[str] = ..., created_at: _Optional[str] = ..., updated_at: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class GetProfileRequest(_message.Message):
    __slots__ = ("caller",)
    CALLER_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ...) -> None: ...

class UpdateProfileRequest(_message.Message):
    __slots__ = ("caller", "profile", "update_mask")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    profile: Profile
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., profile: _Optional[_Union[Profile, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...
