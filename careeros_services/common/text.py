"""The platform's one rule for untrusted text, shared by the gateway's edge and every service.

Text may not carry control characters (C0, DEL and C1; tab, newline and carriage return
are allowed) nor lone UTF-16 surrogates: PostgreSQL refuses NUL in ``text`` and ``jsonb``,
and a surrogate cannot be encoded as UTF-8 at all, so either would fail deep inside a
service as a database or encoding error instead of a clear answer to the caller.
Fields that must be one line (names, titles) refuse tab and newline too
(:data:`SINGLE_LINE_PATTERN`) and bidirectional overrides, which make text display
differently from what it is.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from careeros_services.common.errors import ValidationFailed

_CONTROL = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
_SURROGATES = "\\ud800-\\udfff"
_BIDI = "\\u202a-\\u202e\\u2066-\\u2069"
# ECMA-262, Rust and Python read these patterns alike; they go into the OpenAPI document as they
# are. (Surrogates are not in them: no regex engine but Python's takes them, and valid Unicode
# text, which JSON Schema describes, has none anyway.)
TEXT_PATTERN = f"^[^{_CONTROL}]*$"
SINGLE_LINE_PATTERN = f"^[^\\t\\n\\r{_CONTROL}{_BIDI}]*$"
# Text with at least one visible character.
NON_BLANK_PATTERN = f"^[^{_CONTROL}]*[^\\s{_CONTROL}][^{_CONTROL}]*$"
# One line with at least one visible character (services strip and then refuse an empty name).
NAME_PATTERN = (f"^[^\\t\\n\\r{_CONTROL}{_BIDI}]*[^\\s{_CONTROL}{_BIDI}]"
                f"[^\\t\\n\\r{_CONTROL}{_BIDI}]*$")
CONTROL_MESSAGE = "must not contain control characters"

_UNSAFE = re.compile(f"[{_CONTROL}{_SURROGATES}]")
MAX_JSON_DEPTH = 32


def has_unsafe_chars(value: str) -> bool:
    """True when ``value`` has a control character (other than tab/newline/CR) or a lone surrogate."""
    return _UNSAFE.search(value) is not None


def strip_unsafe_chars(value: str) -> str:
    """``value`` with every unsafe character replaced by a space (for text we extract, e.g. from a PDF)."""
    return _UNSAFE.sub(" ", value)


def walk_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string (keys included) in a JSON-like value as ``(dotted path, string)``, iteratively;
    raises :class:`ValueError` past :data:`MAX_JSON_DEPTH` levels of nesting."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, sub in item.items():
                sub_path = f"{where}.{key}" if where else str(key)
                yield sub_path, str(key)
                stack.append((sub, sub_path, depth + 1))
        elif isinstance(item, (list, tuple)):
            stack.extend((sub, f"{where}.{i}" if where else str(i), depth + 1) for i, sub in enumerate(item))


def unsafe_fields(value: Any, path: str = "") -> dict[str, list[str]]:
    """``{path: [message]}`` for every string in ``value`` that has unsafe characters."""
    return {where or "_schema": [CONTROL_MESSAGE] for where, text in walk_strings(value, path)
            if has_unsafe_chars(text)}


def require_safe_text(detail: str = "The request has text with control characters.", **values: Any) -> None:
    """ValidationFailed naming every field (of ``values``, nested paths too) holding unsafe text."""
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        errors.update(unsafe_fields(value, name))
    if errors:
        raise ValidationFailed(detail, fields=errors)


def message_strings(message: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a protobuf message (nested, repeated and map fields too) as ``(path, value)``."""
    for field, value in message.ListFields():
        yield from _proto_strings(value, f"{path}.{field.name}" if path else field.name)


def _proto_strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif hasattr(value, "ListFields"):
        yield from message_strings(value, where)
    elif hasattr(value, "items"):  # a map field
        for key, sub in value.items():
            if isinstance(key, str):
                yield f"{where}.{key}", key
            yield from _proto_strings(sub, f"{where}.{key}")
    elif not isinstance(value, (bytes, int, float)):  # a repeated field
        for index, item in enumerate(value):
            yield from _proto_strings(item, f"{where}.{index}")


def require_safe_message(message: Any) -> None:
    """ValidationFailed naming every string field of a request message that holds unsafe text
    (the gRPC servers' edge: a caller may bypass the gateway)."""
    errors = {where: [CONTROL_MESSAGE] for where, value in message_strings(message)
              if has_unsafe_chars(value)}
    if errors:
        raise ValidationFailed("The request has text with control characters.", fields=errors)
