"""Request and response bodies of /auth and /me."""
import marshmallow as ma
from marshmallow import validate

from gateway_flask.extensions.api import NAME, Schema


class RegisterIn(Schema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=254))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(min=10, max=256))
    display_name = ma.fields.String(required=True, validate=[validate.Length(min=1, max=120), NAME])
    organization_name = ma.fields.String(validate=[validate.Length(min=1, max=200), NAME],
                                         metadata={"description": "Creates an organisation tenant "
                                                   "with the caller as owner; omit for a personal tenant."})


class RegisterOut(Schema):
    user_id = ma.fields.String(required=True)
    tenant_id = ma.fields.String(required=True)


class LoginIn(Schema):
    email = ma.fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class RefreshIn(Schema):
    refresh_token = ma.fields.String(required=True, validate=validate.Length(min=1, max=512))


class LogoutIn(Schema):
    refresh_token = ma.fields.String(validate=validate.Length(min=1, max=512),
                                     metadata={"description": "Also revoke this refresh token's family."})


class SwitchTenantIn(Schema):
    tenant_id = ma.fields.UUID(required=True, metadata={"description": "A tenant you are a member of"})


class TokenPairOut(Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True)


class MeOut(Schema):
    user_id = ma.fields.String()
    email = ma.fields.String()
    display_name = ma.fields.String()
    tenant_id = ma.fields.String()
    tenant_name = ma.fields.String()
    tenant_kind = ma.fields.String()
    org_role = ma.fields.String()
    plan_tier = ma.fields.String()
    created_at = ma.fields.String()
    email_verified = ma.fields.Boolean(metadata={"description": "Whether the address was confirmed (also a claim)"})


class TokenIn(Schema):
    token = ma.fields.String(required=True, validate=validate.Length(min=1, max=4096),
                             metadata={"description": "The token of the link the e-mail carried"})


class VerifyEmailOut(Schema):
    user_id = ma.fields.String(required=True)
    email_verified = ma.fields.Boolean(required=True)


class ForgotPasswordIn(Schema):
    email = ma.fields.String(required=True, validate=validate.Length(min=1, max=254))


class ResetPasswordIn(TokenIn):
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(min=10, max=256))


class ChangePasswordIn(Schema):
    current_password = ma.fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))
    new_password = ma.fields.String(required=True, load_only=True, validate=validate.Length(min=10, max=256))
