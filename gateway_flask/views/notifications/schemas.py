"""Request and response bodies of /notifications."""
import marshmallow as ma
from marshmallow import validate

from gateway_flask.extensions.api import Schema


class PreferencesOut(Schema):
    enabled = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Boolean(), required=True,
                             metadata={"description": "Each optional kind of e-mail and whether you get it; "
                                       "account and billing e-mails are always sent"})


class PreferencesIn(Schema):
    enabled = ma.fields.Dict(keys=ma.fields.String(validate=validate.Length(min=1, max=60)),
                             values=ma.fields.Boolean(), required=True,
                             validate=validate.Length(min=1, max=20),
                             metadata={"description": "Only the kinds to change, e.g. {\"assignment\": false}"})


class UnsubscribeQuery(Schema):
    token = ma.fields.String(required=True, validate=validate.Length(min=1, max=300))


class UnsubscribeOut(Schema):
    kind = ma.fields.String(required=True)
    enabled = ma.fields.Boolean(required=True)
