"""/roadmaps: generate the caller's roadmap, read its versions with progress, mark milestones, draw it."""
from __future__ import annotations

from flask import Response

from contracts.grpc import roadmap_pb2
from gateway_flask.extensions.api import Blueprint
from gateway_flask.security import auth_required, current_principal
from gateway_flask.services import caller, rpc_client, to_dict
from gateway_flask.views.roadmaps.schemas import (RoadmapIn, RoadmapMilestonePatch, RoadmapOut,
                                                  RoadmapVersionQuery, RoadmapVersionsOut)

blp = Blueprint("roadmaps", __name__, url_prefix="/roadmaps",
                description="Your roadmap to a target role: milestones, schedule, progress")
roadmap_rpc = rpc_client("roadmap")
BEARER = [{"bearerAuth": []}]


def _picture(roadmap_id: str, version: int, fmt: str) -> Response:
    rendered = roadmap_rpc.RenderRoadmap(roadmap_pb2.RenderRoadmapRequest(
        caller=caller(current_principal()), roadmap_id=str(roadmap_id), version=version, format=fmt))
    response = Response(rendered.content, mimetype=rendered.content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blp.route("", methods=["POST"])
@auth_required
@blp.arguments(RoadmapIn)
@blp.response(201, RoadmapOut)
@blp.doc(security=BEARER)
def create_roadmap(body: dict):
    """Generate your roadmap for a target role (a new version if you have one); the previous version stays readable.

    Skills you already have at the needed level are skipped; the schedule never puts more than
    `hours_per_week` into a week. 502 `roadmap_proposal_rejected` when the AI core's proposal was not a
    valid prerequisite graph; 503 when the AI core is unavailable.
    """
    request = roadmap_pb2.CreateRoadmapRequest(
        caller=caller(current_principal()), target_role=body["target_role"],
        hours_per_week=body["hours_per_week"], deadline=body["deadline"].isoformat() if body["deadline"] else "")
    return to_dict(roadmap_rpc.CreateRoadmap(request))


@blp.route("/current", methods=["GET"])
@auth_required
@blp.response(200, RoadmapOut)
@blp.doc(security=BEARER)
def current_roadmap():
    """Your roadmap at its active version, with progress (404 `roadmap_not_found` before the first one)."""
    return to_dict(roadmap_rpc.GetCurrentRoadmap(roadmap_pb2.GetCurrentRoadmapRequest(
        caller=caller(current_principal()))))


@blp.route("/<uuid:roadmap_id>", methods=["GET"])
@auth_required
@blp.arguments(RoadmapVersionQuery, location="query")
@blp.response(200, RoadmapOut)
@blp.doc(security=BEARER)
def get_roadmap(query: dict, roadmap_id):
    """One version of your roadmap (`?version=N`; default the active one), with today's progress."""
    return to_dict(roadmap_rpc.GetRoadmap(roadmap_pb2.GetRoadmapRequest(
        caller=caller(current_principal()), roadmap_id=str(roadmap_id), version=query["version"])))


@blp.route("/<uuid:roadmap_id>/versions", methods=["GET"])
@auth_required
@blp.response(200, RoadmapVersionsOut)
@blp.doc(security=BEARER)
def list_versions(roadmap_id):
    """Every version of your roadmap, oldest first, and why each was made."""
    return to_dict(roadmap_rpc.ListVersions(roadmap_pb2.ListVersionsRequest(
        caller=caller(current_principal()), roadmap_id=str(roadmap_id))))


@blp.route("/<uuid:roadmap_id>/milestones/<string:skill_id>", methods=["PATCH"])
@auth_required
@blp.arguments(RoadmapMilestonePatch)
@blp.response(200, RoadmapOut)
@blp.doc(security=BEARER)
def mark_milestone(body: dict, roadmap_id, skill_id: str):
    """Set your own status for a milestone of the active version (`""` clears it). A mark is not
    tracked evidence: only completed courses make the profile gain the skill."""
    return to_dict(roadmap_rpc.MarkMilestone(roadmap_pb2.MarkMilestoneRequest(
        caller=caller(current_principal()), roadmap_id=str(roadmap_id), skill_id=skill_id,
        status=body["status"])))


@blp.route("/<uuid:roadmap_id>.svg", methods=["GET"])
@auth_required
@blp.arguments(RoadmapVersionQuery, location="query")
@blp.doc(security=BEARER, responses={"200": {"description": "The DAG, layered by depth, coloured by status",
                                             "content": {"image/svg+xml": {"schema": {"type": "string"}}}}})
def roadmap_svg(query: dict, roadmap_id):
    """Your roadmap drawn as SVG."""
    return _picture(roadmap_id, query["version"], "svg")


@blp.route("/<uuid:roadmap_id>.mmd", methods=["GET"])
@auth_required
@blp.arguments(RoadmapVersionQuery, location="query")
@blp.doc(security=BEARER, responses={"200": {"description": "A Mermaid flowchart",
                                             "content": {"text/vnd.mermaid": {"schema": {"type": "string"}}}}})
def roadmap_mermaid(query: dict, roadmap_id):
    """Your roadmap as Mermaid text (paste into any Mermaid renderer)."""
    return _picture(roadmap_id, query["version"], "mermaid")
