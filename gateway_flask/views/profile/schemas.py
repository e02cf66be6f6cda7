"""Bodies of /profile."""
import marshmallow as ma
from marshmallow import validate

from gateway_flask.extensions.api import NAME, SINGLE_LINE, Schema


class SkillSchema(Schema):
    name = ma.fields.String(required=True, validate=[validate.Length(min=1, max=80), NAME])
    level = ma.fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))
    esco_uri = ma.fields.String(validate=validate.Length(max=200), metadata={
        "description": "the skill's ESCO concept; filled in on write from the shared skill table (names and "
                       "aliases: \"Excel\" is stored as Spreadsheets), \"\" when ESCO has none"})


class ProfilePatch(Schema):
    """Only the fields present change."""
    headline = ma.fields.String(validate=[validate.Length(max=200), SINGLE_LINE])
    current_role = ma.fields.String(validate=[validate.Length(max=120), SINGLE_LINE])
    target_role = ma.fields.String(validate=[validate.Length(max=120), SINGLE_LINE])
    years_experience = ma.fields.Integer(strict=True, validate=validate.Range(0, 70))
    skills = ma.fields.List(ma.fields.Nested(SkillSchema), validate=validate.Length(max=100))
    interests = ma.fields.List(ma.fields.String(validate=[validate.Length(min=1, max=60), NAME]),
                               validate=validate.Length(max=50))
    learning_pace = ma.fields.String(validate=validate.OneOf(["relaxed", "steady", "intensive"]))


class ProfileOut(Schema):
    user_id = ma.fields.String()
    tenant_id = ma.fields.String()
    display_name = ma.fields.String()
    headline = ma.fields.String()
    current_role = ma.fields.String()
    target_role = ma.fields.String()
    years_experience = ma.fields.Integer()
    skills = ma.fields.List(ma.fields.Nested(SkillSchema))
    interests = ma.fields.List(ma.fields.String())
    learning_pace = ma.fields.String()
    created_at = ma.fields.String()
    updated_at = ma.fields.String()
    version = ma.fields.Integer()
