"""Bodies of the privacy routes (/me/exports, /me/erasure, /orgs/current/members/{id}/erasure)."""
import marshmallow as ma
from marshmallow import validate

from gateway_flask.extensions.api import Schema


class PrivacyRequestOut(Schema):
    request_id = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "export | erasure"})
    scope = ma.fields.String(metadata={"description": "account | organization (an owner erasing a member's data)"})
    status = ma.fields.String(metadata={"description": "pending | completed | expired"})
    answered = ma.fields.List(ma.fields.String(), metadata={"description": "Services that answered"})
    pending = ma.fields.List(ma.fields.String(), metadata={"description": "Services still to answer"})
    requested_at = ma.fields.String()
    completed_at = ma.fields.String()
    download_url = ma.fields.String(metadata={"description": "Exports: a signed, time-limited link to the zip"})
    download_expires_at = ma.fields.String()
    archive_expires_at = ma.fields.String(metadata={"description": "When the archive is deleted"})


class ErasureIn(Schema):
    confirm = ma.fields.Boolean(required=True, validate=validate.Equal(True),
                                metadata={"description": "Must be true: erasure cannot be undone"})


class FileQuery(Schema):
    expires = ma.fields.Integer(required=True)
    signature = ma.fields.String(required=True, validate=validate.Length(equal=64))
