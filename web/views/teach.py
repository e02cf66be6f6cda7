"""The instructor's pages: their courses, the course editor (modules, lessons, quiz builder,
asset upload), publish and archive."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from web import bff, xapi
from web.api import ApiError

bp = Blueprint("teach", __name__, url_prefix="/teach")
AUTHORS = ("owner", "admin", "instructor")
KINDS = (("article", "Reading (Markdown)"), ("video", "Video"), ("file", "File to download"), ("quiz", "Quiz"))
LEVELS = (("beginner", "Beginner"), ("intermediate", "Intermediate"), ("advanced", "Advanced"))
QUIZ_ROWS, CHOICE_ROWS = 3, 4


@bp.get("")
@bff.role_required(*AUTHORS)
def courses():
    mine = bff.me()["tenant_id"]
    pages = bff.gather(*[("GET", "/lms/courses", {"params": {"status": status, "page_size": 100}})
                         for status in ("draft", "published", "archived")])
    found = [c for page in pages for c in bff.ok(page, missing=())["items"] if c["tenant_id"] == mine]
    return render_template("teach/courses.html", courses=found)


def _course_body(form) -> dict:
    body = {"title": form.get("title", "").strip(), "summary": form.get("summary", "").strip(),
            "level": form.get("level", "beginner"), "language": form.get("language", "en").strip() or "en",
            "track": form.get("track", "").strip(), "premium": form.get("premium") == "on",
            "tags": [t.strip() for t in form.get("tags", "").split(",") if t.strip()]}
    try:
        body["estimated_hours"] = int(form.get("estimated_hours") or 1)
    except ValueError:
        body["estimated_hours"] = -1  # the API names the field
    return body


@bp.route("/new", methods=["GET", "POST"])
@bff.role_required(*AUTHORS)
def new_course():
    errors, message = {}, None
    if request.method == "POST":
        try:
            created = bff.call("POST", "/lms/courses", json=_course_body(request.form))
            flash("Draft course created. Add a module and lessons, then publish.", "success")
            return redirect(url_for("teach.editor", course_id=created["id"]))
        except ApiError as exc:
            if exc.status not in (400, 409, 422):
                raise
            errors, message = exc.field_errors(), str(exc)
    return render_template("teach/new.html", form=request.form, errors=errors, message=message,
                           levels=LEVELS), 422 if errors or message else 200


@bp.route("/<uuid:course_id>", methods=["GET", "POST"])
@bff.role_required(*AUTHORS)
def editor(course_id):
    """The course and its working copy; POST saves the course fields."""
    errors, message = {}, None
    if request.method == "POST":
        try:
            bff.call("PATCH", f"/lms/courses/{course_id}", json=_course_body(request.form))
            flash("Course details saved.", "success")
            return redirect(url_for("teach.editor", course_id=course_id))
        except ApiError as exc:
            if exc.status not in (400, 409, 422):
                raise
            errors, message = exc.field_errors(), str(exc)
    course = bff.call("GET", f"/lms/courses/{course_id}")
    return render_template("teach/editor.html", course=course, errors=errors, message=message, levels=LEVELS,
                           kinds=KINDS), 422 if errors or message else 200


@bp.post("/<uuid:course_id>/modules")
@bff.role_required(*AUTHORS)
def add_module(course_id):
    try:
        bff.call("POST", f"/lms/courses/{course_id}/modules", json={"title": request.form.get("title", "").strip()})
        flash("Module added.", "success")
    except ApiError as exc:
        if exc.status not in (400, 422):
            raise
        flash(f"The module was not added: {exc.field_errors().get('title') or exc}", "error")
    return redirect(url_for("teach.editor", course_id=course_id) + "#modules")


@bp.route("/<uuid:course_id>/modules/<uuid:module_id>/lessons", methods=["GET", "POST"])
@bff.role_required(*AUTHORS)
def new_lesson(course_id, module_id):
    """A lesson of any kind; a quiz is built from question rows (blank rows are left out)."""
    kind = request.values.get("kind", "article")
    errors, message = {}, None
    if request.method == "POST":
        body = {"title": request.form.get("title", "").strip(), "kind": kind,
                "required": request.form.get("required") == "on", "body_md": request.form.get("body_md", ""),
                "estimated_minutes": _int(request.form.get("estimated_minutes"), 10)}
        if kind == "quiz":
            body["quiz"] = _quiz(request.form)
        try:
            created = bff.call("POST", f"/lms/modules/{module_id}/lessons", json=body)
            flash(f"Lesson “{created['title']}” added.", "success")
            anchor = f"#lesson-{created['lesson_id']}"
            return redirect(url_for("teach.editor", course_id=course_id) + anchor)
        except ApiError as exc:
            if exc.status not in (400, 409, 422):
                raise
            errors, message = exc.field_errors(), str(exc)
    return render_template("teach/lesson.html", course_id=course_id, module_id=module_id, kind=kind, kinds=KINDS,
                           form=request.form, errors=errors, message=message, quiz_rows=QUIZ_ROWS,
                           choice_rows=CHOICE_ROWS), 422 if errors or message else 200


def _quiz(form) -> dict:
    questions = []
    for q in range(QUIZ_ROWS):
        prompt = form.get(f"q{q}-prompt", "").strip()
        if not prompt:
            continue
        choices = [{"text": form.get(f"q{q}-c{c}", "").strip(), "correct": form.get(f"q{q}-correct") == str(c)}
                   for c in range(CHOICE_ROWS)]
        questions.append({"prompt": prompt, "choices": [c for c in choices if c["text"]]})
    return {"pass_percent": _int(form.get("pass_percent"), 70), "max_attempts": _int(form.get("max_attempts"), 3),
            "questions": questions}


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@bp.post("/<uuid:course_id>/lessons/<uuid:lesson_id>/asset")
@bff.role_required(*AUTHORS)
def upload_asset(course_id, lesson_id):
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a file to upload.", "error")
    else:
        try:
            bff.call("POST", f"/lms/lessons/{lesson_id}/assets", params={"filename": upload.filename},
                     data=upload.read(), headers={"Content-Type": upload.mimetype or "application/octet-stream"})
            flash(f"{upload.filename} uploaded.", "success")
        except ApiError as exc:
            if exc.status not in (400, 409, 413, 415, 422):
                raise
            flash(f"The file was not uploaded: {exc}", "error")
    if request.headers.get("HX-Request"):
        return "", 200, {"HX-Refresh": "true"}  # the editor again, with the message
    return redirect(url_for("teach.editor", course_id=course_id) + f"#lesson-{lesson_id}")


@bp.post("/<uuid:course_id>/lessons/<uuid:lesson_id>/delete")
@bff.role_required(*AUTHORS)
def delete_lesson(course_id, lesson_id):
    bff.call("DELETE", f"/lms/lessons/{lesson_id}")
    flash("Lesson deleted.", "success")
    return redirect(url_for("teach.editor", course_id=course_id) + "#modules")


@bp.post("/<uuid:course_id>/<any(publish, archive):action>")
@bff.role_required(*AUTHORS)
def lifecycle(course_id, action: str):
    try:
        course = bff.call("POST", f"/lms/courses/{course_id}/{action}")
        flash(f"Published revision {course['revision']}." if action == "publish" else "Course archived.", "success")
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        missing = "; ".join(f"{k}: {v}" for k, v in exc.field_errors().items())
        flash(f"Not {action}ed: {exc}{' — ' + missing if missing else ''}", "error")
    return redirect(url_for("teach.editor", course_id=course_id))


@bp.get("/<uuid:course_id>/results")
@bff.role_required(*AUTHORS)
def results(course_id):
    """Who is taking the course, how far they are, their best quiz score (from the tracker's
    per-learner progress and the course's xAPI statements: the API has no results report yet)."""
    course_iri = f"{xapi.XAPI_HOME}/xapi/courses/{course_id}"
    course, people, statements = bff.gather(
        ("GET", f"/lms/courses/{course_id}"), ("GET", "/orgs/current/members"),
        ("GET", "/tracking/statements", {"params": {"activity": course_iri, "related_activities": "true",
                                                     "limit": 200}}))
    course, people = bff.ok(course, missing=()), bff.ok(people, missing=())["members"]
    progress = bff.gather(*[("GET", "/tracking/progress", {"params": {"course_id": str(course_id),
                                                                      "learner": m["user_id"]}}) for m in people])
    best = _best_scores(bff.ok(statements, default={"statements": []}, missing=(403, 404))["statements"])
    rows = []
    for member, answer in zip(people, progress):
        found = bff.ok(answer, default={"courses": []}, missing=(403, 404))["courses"]
        if found:
            rows.append({"member": member, "progress": found[0], "score": best.get(member["user_id"])})
    return render_template("teach/results.html", course=course, rows=rows)


def _best_scores(statements: list[dict]) -> dict[str, int]:
    best: dict[str, int] = {}
    for st in statements:
        raw = ((st.get("result") or {}).get("score") or {}).get("raw")
        if raw is not None and st["verb"]["id"].rsplit("/", 1)[-1] in ("passed", "failed"):
            who = st["actor"]["account"]["name"]
            best[who] = max(best.get(who, 0), int(raw))
    return best
