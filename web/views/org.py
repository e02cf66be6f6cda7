"""Organisation owners and admins: members and invites, seats, assignments, analytics, audit log."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from web import bff
from web.api import ApiError

bp = Blueprint("org", __name__, url_prefix="/org")
MANAGERS = ("owner", "admin")
ROLES = (("member", "Member"), ("instructor", "Instructor"), ("admin", "Admin"))


@bp.route("/members", methods=["GET", "POST"])
@bff.role_required(*MANAGERS)
def members():
    """Members with their roles, seats used of seats bought, pending invites and the invite form."""
    errors, message, invite = {}, None, None
    if request.method == "POST":
        try:
            invite = bff.call("POST", "/orgs/current/invites", json={
                "email": request.form.get("email", "").strip(), "role": request.form.get("role", "member")})
        except ApiError as exc:
            if exc.status not in (400, 403, 409, 422):
                raise
            errors, message = exc.field_errors(), str(exc)
    return _members_page(invite=invite, errors=errors, message=message,
                         form={} if invite else request.form), 422 if errors or message else 200


def _members_page(invite=None, errors=None, message=None, form=None):
    org, people, invites = bff.gather(("GET", "/orgs/current"), ("GET", "/orgs/current/members"),
                                      ("GET", "/orgs/current/invites"))
    pending = [i for i in bff.ok(invites, missing=())["invites"] if i.get("status", "pending") == "pending"]
    return render_template("org/members.html", org=bff.ok(org, missing=()),
                           members=bff.ok(people, missing=())["members"], invites=pending,
                           roles=ROLES, invite=invite, errors=errors or {}, message=message, form=form or {})


@bp.post("/invites/<uuid:invite_id>/<any(revoke, resend):action>")
@bff.role_required(*MANAGERS)
def invite_action(invite_id, action: str):
    """Revoke a pending invite (its link stops working, its seat is free) or send a new link."""
    try:
        if action == "revoke":
            revoked = bff.call("DELETE", f"/orgs/current/invites/{invite_id}")
            flash(f"The invitation for {revoked['email']} is revoked: its link no longer works.", "success")
        else:
            renewed = bff.call("POST", f"/orgs/current/invites/{invite_id}/resend")
            return _members_page(invite=renewed, form={})
    except ApiError as exc:
        if exc.status not in (400, 403, 404, 409, 422):
            raise
        flash(f"That did not work: {exc}", "error")
    return redirect(url_for("org.members") + "#invites-h")


@bp.post("/members/<uuid:user_id>")
@bff.role_required(*MANAGERS)
def change_member(user_id):
    try:
        if request.form.get("action") == "remove":
            bff.call("DELETE", f"/orgs/current/members/{user_id}")
            flash("Member removed.", "success")
        elif request.form.get("action") == "transfer":
            bff.call("PATCH", f"/orgs/current/members/{user_id}", json={"role": "owner"})
            bff.reload_me()  # you are an admin now: a fresh token carries that role
            flash("Ownership transferred. You are an admin of this organisation now.", "success")
        else:
            bff.call("PATCH", f"/orgs/current/members/{user_id}", json={"role": request.form.get("role", "")})
            flash("Role changed.", "success")
    except ApiError as exc:
        if exc.status not in (400, 403, 409, 422):
            raise
        flash(f"That did not work: {exc}", "error")
    return redirect(url_for("org.members"))


@bp.get("/members/<uuid:user_id>/transfer")
@bff.role_required("owner")
def transfer(user_id):
    """Ask before handing the organisation over: the owner becomes an admin and cannot undo it."""
    people = bff.call("GET", "/orgs/current/members")["members"]
    member = next((m for m in people if m["user_id"] == str(user_id)), None)
    if member is None:
        abort(404)
    return render_template("org/transfer.html", member=member)


@bp.route("/assignments", methods=["GET", "POST"])
@bff.role_required(*MANAGERS)
def assignments():
    errors, message = {}, None
    if request.method == "POST":
        body = {k: request.form.get(k, "").strip() for k in ("user_id", "course_id", "target_role")}
        try:
            bff.call("POST", "/orgs/current/assignments", json={k: v for k, v in body.items() if v})
            flash("Assigned.", "success")
            return redirect(url_for("org.assignments"))
        except ApiError as exc:
            if exc.status not in (400, 404, 409, 422):
                raise
            errors, message = exc.field_errors(), str(exc)
    people = bff.call("GET", "/orgs/current/members")["members"]
    rows = bff.gather(*[("GET", "/orgs/current/assignments", {"params": {"user_id": m["user_id"]}}) for m in people],
                      ("GET", "/lms/courses", {"params": {"page_size": 100}}),
                      ("GET", "/analytics/learners", {"params": {"limit": 1000}}))
    catalog, report = bff.ok(rows[-2])["items"], bff.ok(rows[-1], default={"learners": []}, missing=(403, 404))
    names = {m["user_id"]: m["display_name"] or m["email"] for m in people}
    titles = {c["id"]: c["title"] for c in catalog}
    done = {r["user_id"]: r for r in report["learners"]}
    listed = [a for r in rows[:-2] for a in bff.ok(r, default={"assignments": []}, missing=(403, 404))["assignments"]]
    return render_template("org/assignments.html", assignments=listed, people=people, catalog=catalog, names=names,
                           titles=titles, done=done, errors=errors, message=message, form=request.form), \
        422 if errors or message else 200


@bp.get("/analytics")
@bff.role_required(*MANAGERS)
def analytics():
    params = {k: request.args[k] for k in ("from", "to") if request.args.get(k)}
    overview, learners = bff.gather(("GET", "/analytics/overview", {"params": params}),
                                    ("GET", "/analytics/learners", {"params": {**params, "limit": 200}}))
    return render_template("org/analytics.html", o=bff.ok(overview, missing=()), report=bff.ok(learners, missing=()),
                           params=params)


@bp.get("/analytics/export.csv")
@bff.role_required(*MANAGERS)
def export_csv():
    params = {k: request.args[k] for k in ("from", "to") if request.args.get(k)}
    exported = bff.call("GET", "/analytics/export.csv", params=params, raw=True)
    return Response(exported.content, mimetype="text/csv", headers={
        "Content-Disposition": exported.headers.get("Content-Disposition", 'attachment; filename="learners.csv"'),
        "Cache-Control": "private, no-store"})


@bp.get("/audit")
@bff.role_required(*MANAGERS)
def audit():
    before = request.args.get("before_id", type=int)
    page = {"limit": 50, **({"before_id": before} if before else {})}
    log, people = bff.gather(("GET", "/orgs/current/audit-log", {"params": page}), ("GET", "/orgs/current/members"))
    names = {m["user_id"]: m["display_name"] or m["email"] for m in bff.ok(people, missing=())["members"]}
    entries = bff.ok(log, missing=())["entries"]
    return render_template("org/audit.html", entries=entries, names=names,
                           older=entries[-1]["id"] if len(entries) == 50 else None)
