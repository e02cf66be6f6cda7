"""flask-smorest ``Api``, ``Blueprint`` and marshmallow ``Schema`` for CareerOS.

Service blueprints live in ``gateway_flask/views/<resource>/`` and use these
classes, never flask-smorest's directly::

    blp = Blueprint("profiles", __name__, url_prefix="/profiles")   # -> /api/v1/profiles

    class ProfileSchema(Schema):                                     # unknown fields -> 422
        headline = ma.fields.String(required=True)
"""
from __future__ import annotations

import http
import json
from typing import Any, NoReturn

import flask_smorest
import marshmallow as ma
from flask import Request
from flask_smorest.utils import prepare_response
from webargs.flaskparser import FlaskParser

from gateway_flask import problems

API_PREFIX = "/api/v1"
BEARER_SCHEME = "bearerAuth"


class Schema(ma.Schema):
    """Base schema: unknown fields are a validation error, not silently dropped."""

    class Meta:
        unknown = ma.RAISE


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
    """flask-smorest Blueprint using :class:`Parser`; registered under ``/api/v1``."""

    ARGUMENTS_PARSER = Parser()


class Api(flask_smorest.Api):
    """flask-smorest Api documenting errors as problem+json and a bearer JWT scheme."""

    ERROR_SCHEMA = ProblemSchema

    def init_app(self, app, *, spec_kwargs=None) -> None:
        """Initialise like flask-smorest, then add the Problem schema and bearer scheme."""
        super().init_app(app, spec_kwargs=spec_kwargs)
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
