"""flask-smorest ``Api``, ``Blueprint`` and marshmallow ``Schema`` for CareerOS.

Service blueprints live in ``gateway_flask/views/<resource>/`` and use these
classes, never flask-smorest's directly::

    blp = Blueprint("profiles", __name__, url_prefix="/profiles")   # -> /api/v1/profiles

    class ProfileSchema(Schema):                                     # unknown fields -> 422
        headline = ma.fields.String(required=True)
"""
from __future__ import annotations

import functools
import http
import json
import re
from datetime import datetime
from typing import Any, NoReturn

import flask
import flask_smorest
import marshmallow as ma
from flask import Request
from flask_smorest.utils import prepare_response
from webargs.flaskparser import FlaskParser
from werkzeug.routing import PathConverter, UnicodeConverter

from careeros_services.common import text
from careeros_services.common.errors import ValidationFailed
from gateway_flask import problems

API_PREFIX = "/api/v1"
BEARER_SCHEME = "bearerAuth"


INT32 = (-2 ** 31, 2 ** 31 - 1)
INT64 = (-2 ** 63, 2 ** 63 - 1)
SINGLE_LINE = ma.validate.Regexp(text.SINGLE_LINE_PATTERN,
                                 error="must be one line without control characters")
NON_BLANK = ma.validate.Regexp(text.NON_BLANK_PATTERN, error="must not be blank or have control characters")
UUID_TEXT = ma.validate.Regexp(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$", error="must be a UUID")
NAME = ma.validate.Regexp(text.NAME_PATTERN, error="must be one non-blank line without control characters")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_WRONG_JSON_TYPE = type("WrongJsonType", (), {"__repr__": lambda self: "<wrong JSON type>"})()
_JSON_TYPES = ((ma.fields.Boolean, (bool,)), (ma.fields.Integer, (int,)), (ma.fields.Number, (int, float)))


def rfc3339(value: str) -> None:
    """Validator: an RFC 3339 timestamp with a zone (documented by ``metadata={"format": "date-time"}``)."""
    try:
        ok = bool(_RFC3339.match(value)) and bool(datetime.fromisoformat(value.upper().replace("Z", "+00:00")))
    except ValueError:
        ok = False
    if not ok:
        raise ma.ValidationError("must be an RFC 3339 timestamp with a time zone")


def int_bounds(field: ma.fields.Field) -> tuple[int, int]:
    """What an Integer field can carry to a service: int32 unless ``metadata={"format": "int64"}``."""
    return INT64 if field.metadata.get("format") == "int64" else INT32


class Schema(ma.Schema):
    """Base schema: unknown fields are a validation error, not silently dropped; integers must
    fit the service's field (int32, or int64 when the field says ``format: int64``).

    Text needs no rule here: the middleware refuses control characters in every
    parameter and JSON body (see :mod:`gateway_flask.hardening`), and the OpenAPI
    document states that rule on every string (:func:`_document_field`).
    """

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _json_types_are_strict(self, data: Any, **kwargs: Any) -> Any:
        """In a JSON body (a dict; query strings arrive as a MultiDict) a boolean is true/false and
        a number is a number, as the document says: no "yes", "1" or 1.0 for them."""
        if type(data) is not dict:
            return data
        for name, field in self.load_fields.items():
            key = field.data_key or name
            value = data.get(key)
            for kind, allowed in _JSON_TYPES:
                wrong = (not isinstance(value, allowed)
                         or (isinstance(value, bool) and kind is not ma.fields.Boolean)
                         or (kind is ma.fields.Integer and isinstance(value, float)))
                if isinstance(field, kind) and value is not None and wrong:
                    # The field then refuses it ("Not a valid integer.") beside every other field's error.
                    data = {**data, key: _WRONG_JSON_TYPE}
                    break
        return data

    @ma.validates_schema
    def _integers_fit(self, data: dict, **kwargs: Any) -> None:
        errors = {}
        for name, field in self.load_fields.items():
            value = data.get(field.attribute or name)
            if isinstance(field, ma.fields.Integer) and isinstance(value, int):
                low, high = int_bounds(field)
                if not low <= value <= high:
                    errors[field.data_key or name] = [f"must be between {low} and {high}"]
        if errors:
            raise ma.ValidationError(errors)


def _document_path_text(converter: UnicodeConverter) -> dict:
    """A ``<string:...>`` path segment: no slash, no control characters (refused by the middleware)."""
    schema = {"type": "string", "pattern": "^[^/" + text.TEXT_PATTERN[3:]}
    bounds = converter.regex.rsplit("{", 1)[-1].rstrip("}").split(",")
    schema["minLength"] = int(bounds[0] or 1)
    if len(bounds) > 1 and bounds[1]:
        schema["maxLength"] = int(bounds[1])
    return schema


def _document_field(converter: Any, field: ma.fields.Field, ret: dict) -> dict:
    """apispec attribute function: state the gateway's generic rules in the OpenAPI document."""
    extra: dict[str, Any] = {}
    if isinstance(field, ma.fields.String) and not ({"enum", "pattern", "format"} & ret.keys()):
        extra["pattern"] = text.TEXT_PATTERN
    if isinstance(field, ma.fields.Integer):
        low, high = int_bounds(field)
        extra["format"] = "int64" if (low, high) == INT64 else "int32"
        extra["minimum"] = max(ret.get("minimum", low), low)
        extra["maximum"] = min(ret.get("maximum", high), high)
    return extra


class ProblemSchema(ma.Schema):
    """RFC 9457 problem body (documentation only; problems.py builds the bodies)."""

    type = ma.fields.String(metadata={"description": "URI identifying the problem type"})
    title = ma.fields.String(metadata={"description": "Short human-readable summary"})
    status = ma.fields.Integer(metadata={"description": "HTTP status code"})
    code = ma.fields.String(metadata={"description": "Stable machine-readable error code"})
    detail = ma.fields.String(metadata={"description": "Explanation of this occurrence"})
    correlation_id = ma.fields.String(metadata={"description": "Echo of X-Correlation-ID"})
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
                            metadata={"description": "Validation messages by field"})


class Parser(FlaskParser):
    """webargs parser whose malformed-JSON error is our ``malformed_json`` problem.

    webargs' own handling aborts 400 with a generic payload; raising the
    domain error keeps the code stable whatever path reads the body.
    """

    def _handle_invalid_json_error(self, error: json.JSONDecodeError | UnicodeDecodeError,
                                   req: Request, *args: Any, **kwargs: Any) -> NoReturn:
        raise problems.MalformedJson("The request body is not valid JSON.")


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest Blueprint using :class:`Parser`; registered under ``/api/v1``.

    A required JSON body (``@blp.arguments(Schema)``, the default) must be there: an empty
    request is a 422 naming ``body``, not an empty object (``required=False`` allows it).
    """

    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema, *, location: str = "json", required: bool = True, **kwargs: Any):
        if isinstance(schema, type):
            # Made once here: given a class, webargs builds a new schema on every request
            # (≈ 20 % of a PATCH /profile's view time). Schemas keep no per-request state.
            schema = schema()
        decorator = super().arguments(schema, location=location, required=required, **kwargs)
        if location != "json" or not required:
            return decorator

        def wrap(func):
            parsed = decorator(func)

            @functools.wraps(parsed)
            def body_required(*args: Any, **kw: Any) -> Any:
                if not flask.request.get_data(cache=True).strip():
                    raise ValidationFailed("A request body is required.", fields={"body": ["is required"]})
                return parsed(*args, **kw)
            return body_required
        return wrap


class Api(flask_smorest.Api):
    """flask-smorest Api documenting errors as problem+json and a bearer JWT scheme."""

    ERROR_SCHEMA = ProblemSchema

    def init_app(self, app, *, spec_kwargs=None) -> None:
        """Initialise like flask-smorest, then add the Problem schema and bearer scheme."""
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.ma_plugin.converter.add_attribute_function(_document_field)
        self.register_converter(UnicodeConverter, _document_path_text)
        self.register_converter(PathConverter, lambda converter: {
            "type": "string", "minLength": 1, "pattern": text.TEXT_PATTERN.replace("*", "+")})
        # The marshmallow plugin names ProblemSchema "Problem" while preparing
        # the error responses; make sure it is there even if that changes.
        if "Problem" not in self.spec.components.schemas:
            self.spec.components.schema("Problem", schema=ProblemSchema)
        self.spec.components.security_scheme(
            BEARER_SCHEME, {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})

    def register_blueprint(self, blp, *, parameters=None, **options) -> None:
        """Register ``blp`` under ``/api/v1`` + its own ``url_prefix``."""
        options.setdefault("url_prefix", API_PREFIX + (blp.url_prefix or ""))
        super().register_blueprint(blp, parameters=parameters, **options)

    def _register_error_handlers(self) -> None:
        # Replace flask-smorest's JSON error handler with problem+json handlers.
        problems.register(self._app)

    def _register_responses(self) -> None:
        # Same lazy responses as flask-smorest, with the problem+json media type.
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, problems.MIMETYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (application/problem+json)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.MIMETYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)
