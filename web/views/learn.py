"""The learner's pages: dashboard, profile, enrolment, course player, certificate, consultant,
roadmap and billing."""
from __future__ import annotations

import time
from typing import Optional

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for

from web import bff, xapi
from web.api import ApiError

bp = Blueprint("learn", __name__, url_prefix="/app")
SANDBOX_CARDS = (("pm_card_visa", "Visa ending 4242 (always succeeds)"),
                 ("pm_card_mastercard", "Mastercard ending 4444 (always succeeds)"),
                 ("pm_card_chargeDeclined", "Visa ending 0002 (always declined)"))
SKILL_OPTIONS = 100  # suggestions on the page before anything is typed (the taxonomy, alphabetically)
OPENING_COMPLETES = ("article", "file")  # the API completes these when it serves them
DECLINE_WORDS = ("Your card was declined, so nothing was charged and your plan has not changed. "
                 "Try another card, or ask your bank why the payment was refused.")


@bp.get("")
@bff.login_required
def dashboard():
    enrolments, progress, roadmap = bff.gather(("GET", "/lms/enrollments"), ("GET", "/tracking/progress"),
                                               ("GET", "/roadmaps/current"))
    enrolments = bff.ok(enrolments)["items"]
    progress = bff.ok(progress)
    roadmap = bff.ok(roadmap)
    by_course = {c["course_id"]: c for c in progress.get("courses", [])}
    return render_template("learn/dashboard.html", enrolments=enrolments, progress=progress, roadmap=roadmap,
                           by_course=by_course, next_step=_next_step(enrolments, by_course, roadmap))


def _next_step(enrolments: list, by_course: dict, roadmap: Optional[dict]) -> dict:
    for e in enrolments:
        if not e.get("certificate_id") and by_course.get(e["course_id"], {}).get("percent", e["percent"]) < 100:
            return {"text": f"Continue “{e['course_title']}”",
                    "href": url_for("learn.player", course_id=e["course_id"])}
    if roadmap:
        for m in roadmap.get("milestones", []):
            if m.get("status") not in ("done", "skipped") and m.get("courses"):
                return {"text": f"Start learning {m['skill_name']}: “{m['courses'][0]['title']}”",
                        "href": url_for("public.course", course_id=m["courses"][0]["course_id"])}
        return {"text": "Open your roadmap", "href": url_for("learn.roadmap")}
    return {"text": "Get your roadmap: tell us the role you want", "href": url_for("learn.roadmap")}


# --- profile -------------------------------------------------------------------------------------

@bp.route("/profile", methods=["GET", "POST"])
@bff.login_required
def profile():
    profile, roles, progress, skills = bff.gather(("GET", "/profile"), ("GET", "/ai/roles"),
                                                  ("GET", "/tracking/progress"),
                                                  ("GET", "/ai/skills", {"params": {"limit": SKILL_OPTIONS}}))
    profile = bff.ok(profile, default={})
    roles = bff.ok(roles, default={"roles": []})["roles"]
    minutes = bff.ok(progress)["weekly_goal"]["minutes_per_week"]
    errors, message = {}, None
    if request.method == "POST":
        patch, hours = _profile_patch(request.form)
        try:
            bff.call("PATCH", "/profile", json=patch)
            bff.call("PUT", "/tracking/goal", json={"minutes_per_week": hours * 60})
            flash("Your profile is saved.", "success")
            return redirect(url_for("learn.profile"))
        except ApiError as exc:
            if exc.status >= 500 or exc.status in (401, 403):
                raise
            errors, message = exc.field_errors(), str(exc)
            profile = {**profile, **patch}
            minutes = hours * 60
    return render_template("learn/profile.html", profile=profile, roles=roles,
                           skill_options=bff.ok(skills, default={"skills": []})["skills"],
                           hours=minutes // 60, errors=errors, message=message), 422 if errors else 200


@bp.get("/skills")
@bff.login_required
def skill_options():
    """The skill field's suggestions as the person types (htmx fills the datalist): the API's
    taxonomy search, so an alias ("excel") finds its skill ("Spreadsheets")."""
    typed = request.args.get("skill_name", "").strip()[:100]
    found = bff.call("GET", "/ai/skills", params={"q": typed, "limit": 20 if typed else SKILL_OPTIONS})
    return render_template("learn/_skill_options.html", skill_options=found["skills"])


def _profile_patch(form) -> tuple[dict, int]:
    names, levels = form.getlist("skill_name"), form.getlist("skill_level")
    skills = [{"name": n.strip(), "level": _int(lv, 1)} for n, lv in zip(names, levels) if n.strip()]
    patch = {"headline": form.get("headline", "").strip(), "current_role": form.get("current_role", "").strip(),
             "target_role": form.get("target_role", "").strip(), "skills": skills,
             "years_experience": _int(form.get("years_experience"), 0),
             "learning_pace": form.get("learning_pace", "steady")}
    return patch, max(0, min(_int(form.get("hours_per_week"), 0), 80))


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# --- enrolment and the course player --------------------------------------------------------------

@bp.post("/courses/<uuid:course_id>/enrol")
@bff.login_required
def enrol(course_id):
    try:
        bff.call("POST", f"/lms/courses/{course_id}/enrollments")
    except ApiError as exc:
        if exc.code not in ("already_enrolled", "enrollment_exists") and exc.status != 409:
            raise
    flash("You are enrolled. Enjoy the course!", "success")
    return redirect(url_for("learn.player", course_id=course_id))


@bp.get("/learn/<uuid:course_id>")
@bff.login_required
def player(course_id):
    """Resume at the first lesson not done yet (or the first)."""
    course, progress = bff.gather(("GET", f"/lms/courses/{course_id}"),
                                  ("GET", "/tracking/progress", {"params": {"course_id": str(course_id)}}))
    course = bff.ok(course, missing=())
    done = _done_lessons(bff.ok(progress))
    lessons = [l for m in course["modules"] for l in m["lessons"]]
    if not lessons:
        flash("This course has no lessons yet.", "info")
        return redirect(url_for("public.course", course_id=course_id))
    target = next((l for l in lessons if l["lesson_id"] not in done), lessons[0])
    return redirect(url_for("learn.lesson", course_id=course_id, lesson_id=target["lesson_id"]))


def _done_lessons(progress: dict) -> set:
    return {l["lesson_id"] for c in progress.get("courses", []) for l in c.get("lessons", []) if l.get("done")}


@bp.route("/learn/<uuid:course_id>/<uuid:lesson_id>", methods=["GET", "POST"])
@bff.login_required
def lesson(course_id, lesson_id):
    """One unit beside the course outline, with previous/next. The API records progress: opening a
    reading or file completes it, a video is marked done (:func:`lesson_done`), a quiz by passing."""
    result = None
    if request.method == "POST":
        result = bff.call("POST", f"/lms/lessons/{lesson_id}/quiz-attempts", json={"answers": _answers(request.form)})
    course, unit, progress = bff.gather(("GET", f"/lms/courses/{course_id}"), ("GET", f"/lms/lessons/{lesson_id}"),
                                        ("GET", "/tracking/progress", {"params": {"course_id": str(course_id)}}))
    course, unit, progress = bff.ok(course, missing=()), bff.ok(unit, missing=()), bff.ok(progress)
    if request.method == "GET":
        xapi.record_visit(course_id=str(course_id), lesson=unit)
    lessons = [l for m in course["modules"] for l in m["lessons"]]
    ids = [l["lesson_id"] for l in lessons]
    at = ids.index(str(lesson_id)) if str(lesson_id) in ids else 0
    course_progress = next(iter(progress.get("courses", [])), None)
    return render_template("learn/lesson.html", course=course, unit=unit, result=result,
                           done=_done_lessons(progress) | set(session.get("watched", []))
                           | ({str(lesson_id)} if unit["kind"] in OPENING_COMPLETES else set()),
                           prev=lessons[at - 1] if at > 0 else None,
                           next=lessons[at + 1] if at + 1 < len(lessons) else None,
                           course_progress=course_progress, asset_href=_asset_href(unit))


@bp.post("/learn/<uuid:course_id>/<uuid:lesson_id>/done")
@bff.login_required
def lesson_done(course_id, lesson_id):
    """Mark a video watched (the player posts it when the video ends, or the learner does): the
    API's ``POST /lms/lessons/{id}/complete``. htmx gets the button's new state only."""
    done = bff.call("POST", f"/lms/lessons/{lesson_id}/complete")
    if request.headers.get("HX-Request"):
        return render_template("learn/_done.html", course_id=course_id, lesson_id=lesson_id, is_done=True,
                               completed=done["course_completed"])
    flash("Course complete: your certificate is ready." if done["course_completed"] else "Marked as done.",
          "success")
    # The tracker's progress follows a moment later: until then the page shows it done from here.
    session["watched"] = [*session.get("watched", [])[-19:], str(lesson_id)]
    return redirect(url_for("learn.lesson", course_id=course_id, lesson_id=lesson_id))


def _answers(form) -> list[dict]:
    answers = []
    for key in form:
        if key.startswith("q-"):
            answers.append({"question_id": key[2:], "choice_ids": form.getlist(key)})
    return answers


def _asset_href(unit: dict) -> Optional[str]:
    asset = unit.get("asset")
    if not asset or not asset.get("url"):
        return None
    return url_for("learn.asset", course_id=unit["course_id"], lesson_id=unit["lesson_id"])


@bp.get("/learn/<uuid:course_id>/<uuid:lesson_id>/asset")
@bff.login_required
def asset(course_id, lesson_id):
    """The lesson's file through its signed link (the API's own address may be internal)."""
    from urllib.parse import parse_qsl, urlparse
    unit = bff.call("GET", f"/lms/lessons/{lesson_id}")
    if not unit.get("asset"):
        abort(404)
    link = urlparse(unit["asset"]["url"])
    fetched = bff.call("GET", link.path.split("/api/v1", 1)[-1], anonymous=True,
                       params=dict(parse_qsl(link.query)), raw=True, stream=True)
    disposition = "inline" if unit["kind"] == "video" else "attachment"
    filename = "".join(c for c in unit["asset"]["filename"] if c.isprintable() and c not in '"\\')
    headers = {"Content-Disposition": f'{disposition}; filename="{filename}"',
               "Cache-Control": "private, no-store"}
    if fetched.headers.get("Content-Length"):
        headers["Content-Length"] = fetched.headers["Content-Length"]
    return Response(fetched.iter_content(64 * 1024), headers=headers,
                    mimetype=unit["asset"].get("content_type") or "application/octet-stream")


@bp.get("/certificates")
@bff.login_required
def certificates():
    enrolments = bff.call("GET", "/lms/enrollments")["items"]
    return render_template("learn/certificates.html", enrolments=[e for e in enrolments if e.get("certificate_id")])


# --- the AI consultant -----------------------------------------------------------------------------

@bp.route("/consultant", methods=["GET", "POST"])
@bff.login_required
def consultant():
    """A chat: the first question opens a consultation, later ones are follow-ups; earlier
    conversations come from the API's history (``GET /ai/consultations``)."""
    current_id = request.values.get("c")
    errors, message, consultation = {}, None, None
    if request.method == "POST":
        text = request.form.get("question", "").strip()
        try:
            if current_id and request.form.get("new") != "1":
                consultation = bff.call("POST", f"/ai/consultations/{current_id}/messages", json={"content": text})
            else:
                consultation = bff.call("POST", "/ai/consultations", json={"question": text})
        except ApiError as exc:
            if exc.status >= 500 and exc.status != 502 or exc.status in (401, 403):
                raise
            errors = {"question": exc.field_errors().get("question") or exc.field_errors().get("content") or str(exc)}
            message = str(exc)
        else:
            if not request.headers.get("HX-Request"):
                return redirect(url_for("learn.consultant", c=consultation["consultation_id"]) + "#latest")
    listing = ("GET", "/ai/consultations", {"params": {"limit": 20}})
    if consultation is None and current_id:  # both at once
        history, found = bff.gather(listing, ("GET", f"/ai/consultations/{current_id}"))
        history, consultation = bff.ok(history, missing=())["consultations"], bff.ok(found, missing=(404, 422))
    else:
        history = bff.call(*listing[:2], **listing[2])["consultations"]
        if consultation is None and history:  # the latest conversation, to carry on
            consultation = bff.call("GET", f"/ai/consultations/{history[0]['consultation_id']}")
    if request.headers.get("HX-Request"):
        # The chat and, out of band, the history beside it (a new conversation joins the list).
        return render_template("learn/_chat.html", consultation=consultation, history=history, errors=errors,
                               message=message, oob=True)
    return render_template("learn/consultant.html", consultation=consultation, history=history,
                           errors=errors, message=message)


# --- roadmap ---------------------------------------------------------------------------------------

@bp.route("/roadmap", methods=["GET", "POST"])
@bff.login_required
def roadmap():
    errors, message = {}, None
    if request.method == "POST":
        try:
            bff.call("POST", "/roadmaps", json={"target_role": request.form.get("target_role", "").strip(),
                                                "hours_per_week": _int(request.form.get("hours_per_week"), 0)})
            flash("Your roadmap is ready.", "success")
            return redirect(url_for("learn.roadmap"))
        except ApiError as exc:
            if exc.status >= 500 and exc.status != 502 or exc.status in (401, 403):
                raise
            errors, message = exc.field_errors(), str(exc)
    current, roles, profile = bff.gather(("GET", "/roadmaps/current"), ("GET", "/ai/roles"), ("GET", "/profile"))
    current = bff.ok(current)
    by_skill = {m["skill_id"]: m for m in (current or {}).get("milestones", [])}
    return render_template("learn/roadmap.html", roadmap=current, by_skill=by_skill,
                           state_key=_state_key(current) if current else "",
                           roles=bff.ok(roles, default={"roles": []})["roles"],
                           profile=bff.ok(profile, default={}), errors=errors, message=message), 422 if errors else 200


def _state_key(roadmap: dict) -> str:
    """Names the state the picture must show: a new key (a new image address) whenever a status
    or percent changes, so the browser never keeps a picture older than the list beside it."""
    import hashlib
    state = "|".join(f"{m['skill_id']}:{m.get('status')}:{m.get('percent')}" for m in roadmap.get("milestones", []))
    return hashlib.sha256(f"{roadmap.get('version')}|{state}".encode()).hexdigest()[:16]


@bp.get("/roadmap/<uuid:roadmap_id>.svg")
@bff.login_required
def roadmap_svg(roadmap_id):
    """The picture, shown as an image (an <img> never runs script inside an SVG)."""
    svg = bff.call("GET", f"/roadmaps/{roadmap_id}.svg",
                   params={"version": max(0, request.args.get("version", 0, type=int) or 0)}, raw=True)
    return Response(svg.content, mimetype="image/svg+xml", headers={"Cache-Control": "private, no-store"})


@bp.post("/roadmap/<uuid:roadmap_id>/milestones/<skill_id>")
@bff.login_required
def mark_milestone(roadmap_id, skill_id: str):
    """Mark a milestone (or undo the mark); htmx gets the picture and the list back, both drawn
    from the roadmap the API answered with."""
    status = request.form.get("status", "done")
    updated = bff.call("PATCH", f"/roadmaps/{roadmap_id}/milestones/{skill_id}", json={"status": status})
    if request.headers.get("HX-Request"):
        return render_template("learn/_roadmap_state.html", roadmap=updated, state_key=_state_key(updated))
    flash("Milestone updated.", "success")
    return redirect(url_for("learn.roadmap") + f"#m-{skill_id}")


# --- billing ---------------------------------------------------------------------------------------

@bp.route("/billing", methods=["GET", "POST"])
@bff.login_required
def billing():
    errors, message = {}, None
    if request.method == "POST":
        action = request.form.get("action", "start")
        try:
            _billing_action(action, request.form)
            flash({"start": "Your plan is active. Thank you!", "change": "Your plan has been changed.",
                   "cancel": "Your subscription is cancelled."}.get(action, "Done."), "success")
            return redirect(url_for("learn.billing"))
        except ApiError as exc:
            if exc.status == 402:  # the API's `payment_declined`: shown in words, not the provider's code
                errors, message = {"payment_method": DECLINE_WORDS}, DECLINE_WORDS
            elif exc.status in (409, 422, 400):
                errors, message = exc.field_errors(), str(exc)
            else:
                raise
    plans, state, invoices = bff.gather(("GET", "/billing/plans"), ("GET", "/billing/subscription"),
                                        ("GET", "/billing/invoices"))
    return render_template("learn/billing.html", plans=bff.ok(plans)["plans"], state=bff.ok(state),
                           invoices=bff.ok(invoices, default={"invoices": []}, missing=(403, 404))["invoices"],
                           cards=SANDBOX_CARDS, errors=errors, message=message, form=request.form), \
        (402 if message == DECLINE_WORDS else 422) if errors or message else 200


def _retrying(action, attempts: int = 6):
    """Billing answers 409 ``change_in_progress`` while a saga of the subscription is still running
    (for a second or so): wait as its Retry-After says rather than bounce the person."""
    for attempt in range(attempts):
        try:
            return action()
        except ApiError as exc:
            if exc.code != "change_in_progress" or attempt == attempts - 1:
                raise
            time.sleep(min(float(exc.retry_after or 1), 2.0))


def _billing_action(action: str, form) -> None:
    if action == "cancel":
        _retrying(lambda: bff.call("POST", "/billing/subscription/cancel",
                                   json={"at_period_end": form.get("when") != "now"}))
        return
    body = {"plan": form.get("plan", ""), "interval": form.get("interval", "month"),
            "seats": max(1, _int(form.get("seats"), 1)), "payment_method": form.get("payment_method", "")}
    if action == "change":
        _retrying(lambda: bff.call("POST", "/billing/subscription/change", json={k: v for k, v in body.items() if v}))
    else:
        bff.call("POST", "/billing/subscriptions", json=body)  # a declined card: 402, nothing left to undo
    bff.reload_me()  # the plan tier is a claim of the access token: a fresh token carries the new tier
