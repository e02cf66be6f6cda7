"""/ai: the AI HR consultant. Every call goes to ai_core over gRPC.

AI provider failures keep their own statuses: an answer that stayed invalid
after one repair is 502 ``ai_output_invalid`` (nothing stored); a provider
that does not answer is 503 ``ai_provider_unavailable``; quotas and rate
limits are 429 with Retry-After.
"""
from __future__ import annotations

from flask import request

from careeros_services.common.errors import DomainError
from careeros_services.common.settings import AiCoreGatewaySettings
from contracts.grpc import ai_core_pb2
from gateway_flask.extensions.api import Blueprint
from gateway_flask.middleware import accepts, max_body
from gateway_flask.security import auth_required, current_principal
from gateway_flask.services import caller, rpc_client, to_dict
from gateway_flask.views.ai import schemas as s

blp = Blueprint("ai", __name__, url_prefix="/ai", description="The AI HR consultant")
ai_core_rpc = rpc_client("ai_core")

CV_TYPES = ("application/pdf", "text/plain")


class AiOutputInvalid(DomainError):
    code, status, title = "ai_output_invalid", 502, "Bad gateway"


class AiProviderUnavailable(DomainError):
    code, status, title = "ai_provider_unavailable", 503, "AI provider unavailable"


_BY_CODE = {cls.code: cls for cls in (AiOutputInvalid, AiProviderUnavailable)}


def _call(rpc, message):
    """Call ai_core; its AI-provider errors come back with their HTTP status."""
    try:
        return rpc(message, timeout=_deadline())
    except DomainError as exc:
        cls = _BY_CODE.get(exc.code)
        if cls is None:
            raise
        raise cls(exc.detail, fields=exc.fields, retry_after=exc.retry_after) from None


def _deadline() -> float:
    # A hosted model may take seconds: the AI routes get a longer deadline than the default.
    from gateway_flask.state import gateway_state
    return AiCoreGatewaySettings.from_config(gateway_state().config).gateway_deadline_s


def _cv_limit() -> int:
    from gateway_flask.state import gateway_state
    return AiCoreGatewaySettings.from_config(gateway_state().config).max_cv_bytes


def _me():
    return caller(current_principal())


@blp.route("/consultations", methods=["POST"])
@auth_required
@blp.arguments(s.AiConsultationIn)
@blp.response(201, s.AiConsultationOut)
@blp.doc(security=[{"bearerAuth": []}])
def open_consultation(body: dict):
    """Open a consultation with a question or goal; the answer (skill gaps, next steps, courses,
    roles, interview topics, ESCO URIs) is in the second message."""
    message = ai_core_pb2.OpenConsultationRequest(caller=_me(), question=body["question"],
                                                  target_role=body.get("target_role", ""))
    result = to_dict(_call(ai_core_rpc.OpenConsultation, message))
    return result, {"Location": f"/api/v1/ai/consultations/{result['consultation_id']}"}


@blp.route("/consultations", methods=["GET"])
@auth_required
@blp.arguments(s.AiConsultationsQuery, location="query")
@blp.response(200, s.AiConsultationsOut)
@blp.doc(security=[{"bearerAuth": []}])
def list_consultations(query: dict):
    """Your conversation history: your own consultations (never a colleague's), newest activity first,
    without their messages (read one with `GET /ai/consultations/{id}`)."""
    return to_dict(_call(ai_core_rpc.ListConsultations, ai_core_pb2.ListConsultationsRequest(caller=_me(), limit=query["limit"])))


@blp.route("/consultations/<uuid:consultation_id>", methods=["GET"])
@auth_required
@blp.response(200, s.AiConsultationOut)
@blp.doc(security=[{"bearerAuth": []}])
def get_consultation(consultation_id):
    """One of your consultations with every message (404 `consultation_not_found` for others')."""
    message = ai_core_pb2.GetConsultationRequest(caller=_me(), consultation_id=str(consultation_id))
    return to_dict(_call(ai_core_rpc.GetConsultation, message))


@blp.route("/consultations/<uuid:consultation_id>/messages", methods=["POST"])
@auth_required
@blp.arguments(s.AiMessageIn)
@blp.response(201, s.AiConsultationOut)
@blp.doc(security=[{"bearerAuth": []}])
def post_message(body: dict, consultation_id):
    """Ask a follow-up; returns the consultation with your message and the new answer."""
    message = ai_core_pb2.PostMessageRequest(caller=_me(), consultation_id=str(consultation_id),
                                             content=body["content"])
    return to_dict(_call(ai_core_rpc.PostMessage, message))


@blp.route("/cv", methods=["POST"])
@auth_required
@max_body(_cv_limit)
@accepts(*CV_TYPES)
@blp.arguments(s.AiCvQuery, location="query")
@blp.response(201, s.AiCvOut)
@blp.doc(security=[{"bearerAuth": []}], requestBody={
    "required": True, "description": "The CV itself, as the raw request body (limit ai_core.max_cv_bytes, default 2 MiB)",
    "content": {t: {"schema": {"type": "string", "format": "binary", "minLength": 1}} for t in CV_TYPES}})
def upload_cv(query: dict):
    """Upload your CV (PDF or plain text). Skills found in it are proposed; your profile does not
    change until you confirm them (`POST /ai/cv/{cv_id}/confirm`)."""
    message = ai_core_pb2.AnalyzeCvRequest(caller=_me(), filename=query["filename"],
                                           content_type=request.mimetype, content=request.get_data())
    result = to_dict(_call(ai_core_rpc.AnalyzeCv, message))
    return result, {"Location": f"/api/v1/ai/cv/{result['cv_id']}"}


@blp.route("/cv/<uuid:cv_id>/confirm", methods=["POST"])
@auth_required
@blp.arguments(s.AiCvConfirmIn)
@blp.response(200, s.AiCvOut)
@blp.doc(security=[{"bearerAuth": []}])
def confirm_cv(body: dict, cv_id):
    """Confirm proposed skills (you may drop some or change levels); ai_core then publishes
    `careeros.ai_core.cv.confirmed.v1` for your profile."""
    message = ai_core_pb2.ConfirmCvRequest(
        caller=_me(), cv_id=str(cv_id),
        skills=[ai_core_pb2.SkillLevel(name=k["name"], level=k["level"]) for k in body["skills"]])
    return to_dict(_call(ai_core_rpc.ConfirmCv, message))


@blp.route("/usage", methods=["GET"])
@auth_required
@blp.response(200, s.AiQuotaUsageOut)
@blp.doc(security=[{"bearerAuth": []}])
def get_usage():
    """This month's consultations against your plan's quota, and tokens/cost (micro-USD);
    owners and admins also see their organisation's totals."""
    return to_dict(_call(ai_core_rpc.GetUsage, ai_core_pb2.GetUsageRequest(caller=_me())))


@blp.route("/roles", methods=["GET"])
@auth_required
@blp.arguments(s.AiRolesQuery, location="query")
@blp.response(200, s.AiRolesOut)
@blp.doc(security=[{"bearerAuth": []}])
def list_roles(query: dict):
    """The roles the consultant knows, with required skill levels and interview topics."""
    return to_dict(_call(ai_core_rpc.ListRoles, ai_core_pb2.ListRolesRequest(caller=_me(), track=query["track"])))


@blp.route("/skills", methods=["GET"])
@auth_required
@blp.arguments(s.AiSkillsQuery, location="query")
@blp.response(200, s.AiSkillsOut)
@blp.doc(security=[{"bearerAuth": []}])
def search_skills(query: dict):
    """Search the skill taxonomy (ESCO-linked; what profiles, roadmaps and courses resolve skills to) by
    name or alias as a person types: exact names first, then prefixes, then words and parts."""
    return to_dict(_call(ai_core_rpc.SearchSkills, ai_core_pb2.SearchSkillsRequest(caller=_me(), **query)))
