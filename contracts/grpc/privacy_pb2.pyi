from contracts.grpc import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RequestExportRequest(_message.Message):
    __slots__ = ("caller",)
    CALLER_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ...) -> None: ...

class RequestErasureRequest(_message.Message):
    __slots__ = ("caller", "member_user_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    MEMBER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    member_user_id: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., member_user_id: _Optional[str] = ...) -> None: ...

class GetRequestRequest(_message.Message):
    __slots__ = ("caller", "request_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    request_id: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class PrivacyRequest(_message.Message):
    __slots__ = ("request_id", "kind", "scope", "status", "answered", "pending", "requested_at", "completed_at", "download_url", "download_expires_at", "archive_expires_at")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    DOWNLOAD_URL_FIELD_NUMBER: _ClassVar[int]
    DOWNLOAD_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    ARCHIVE_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    kind: str
    scope: str
    status: str
    answered: _containers.RepeatedScalarFieldContainer[str]
    pending: _containers.RepeatedScalarFieldContainer[str]
    requested_at: str
    completed_at: str
    download_url: str
    download_expires_at: str
    archive_expires_at: str
    def __init__(self, request_id: _Optional[str] = ..., kind: _Optional[str] = ..., scope: _Optional[str] = ..., status: _Optional[str] = ..., answered: _Optional[_Iterable[str]] = ..., pending: _Optional[_Iterable[str]] = ..., requested_at: _Optional[str] = ..., completed_at: _Optional[str] = ..., download_url: _Optional[str] = ..., download_expires_at: _Optional[str] = ..., archive_expires_at: _Optional[str] = ...) -> None: ...

class ReadFileRequest(_message.Message):
    __slots__ = ("key", "expires", "signature", "offset", "length")
    KEY_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    key: str
    expires: int
    signature: str
    offset: int
    length: int
    def __init__(self, key: _Optional[str] = ..., expires: _Optional[int] = ..., signature: _Optional[str] = ..., offset: _Optional[int] = ..., length: _Optional[int] = ...) -> None: ...

class FileChunk(_message.Message):
    __slots__ = ("data", "size", "content_type", "offset")
    DATA_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    size: int
    content_type: str
    offset: int
    def __init__(self, data: _Optional[bytes] = ..., size: _Optional[int] = ..., content_type: _Optional[str] = ..., offset: _Optional[int] = ...) -> None: ...
