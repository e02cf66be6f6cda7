"""The instructor's pages: their courses, the course editor (modules, lessons, quiz builder,
asset upload), publish and archive."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for

from web import bff
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
                           kinds=KINDS, module_problem=session.pop("module_problem", None) or {}), \
        422 if errors or message else 200


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


def _quiz(form, rows: int = QUIZ_ROWS, choice_rows: int = CHOICE_ROWS) -> dict:
    questions = []
    for q in range(rows):
        prompt = form.get(f"q{q}-prompt", "").strip()
        if not prompt:
            continue
        choices = [{"text": form.get(f"q{q}-c{c}", "").strip(), "correct": form.get(f"q{q}-correct") == str(c)}
                   for c in range(choice_rows)]
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


@bp.post("/<uuid:course_id>/modules/<uuid:module_id>")
@bff.role_required(*AUTHORS)
def change_module(course_id, module_id):
    """Rename a module, move it up or down among the course's modules, or delete it."""
    action = request.form.get("action", "rename")
    try:
        if action == "delete":
            bff.call("DELETE", f"/lms/modules/{module_id}")
            flash("Module deleted.", "success")
        elif action in ("up", "down"):
            bff.call("PATCH", f"/lms/modules/{module_id}", json={"position": _moved(request.form, action)})
            flash("Module moved.", "success")
        else:
            bff.call("PATCH", f"/lms/modules/{module_id}", json={"title": request.form.get("title", "").strip()})
            flash("Module renamed.", "success")
    except ApiError as exc:
        if exc.status not in (400, 409, 422):
            raise
        said = exc.field_errors().get("title") or str(exc)
        flash(f"The module was not changed: {said}", "error")
        session["module_problem"] = {"module_id": str(module_id), "text": said}  # shown at its field too
    return redirect(url_for("teach.editor", course_id=course_id) + f"#module-{module_id}")


def _moved(form, direction: str) -> int:
    """The 0-based position one step up or down from the one the page showed."""
    return max(0, _int(form.get("position"), 0) + (-1 if direction == "up" else 1))


@bp.post("/<uuid:course_id>/lessons/<uuid:lesson_id>/move")
@bff.role_required(*AUTHORS)
def move_lesson(course_id, lesson_id):
    direction = request.form.get("direction", "down")
    try:
        bff.call("PATCH", f"/lms/lessons/{lesson_id}", json={"position": _moved(request.form, direction)})
        flash("Lesson moved.", "success")
    except ApiError as exc:
        if exc.status not in (400, 409, 422):
            raise
        flash(f"The lesson was not moved: {exc}", "error")
    return redirect(url_for("teach.editor", course_id=course_id) + f"#lesson-{lesson_id}")


@bp.route("/<uuid:course_id>/lessons/<uuid:lesson_id>/edit", methods=["GET", "POST"])
@bff.role_required(*AUTHORS)
def edit_lesson(course_id, lesson_id):
    """Edit a lesson of the working copy, its current text and quiz filled in (the API's author
    read, ``GET /lms/lessons/{id}/draft``); saving replaces them with what the form holds."""
    lesson = bff.call("GET", f"/lms/lessons/{lesson_id}/draft")
    if lesson["course_id"] != str(course_id):
        abort(404)
    quiz = lesson.get("quiz") or {"questions": []}
    rows = max(QUIZ_ROWS, len(quiz["questions"]))
    choices = max([CHOICE_ROWS] + [len(q["choices"]) for q in quiz["questions"]])
    errors, message = {}, None
    if request.method == "POST":
        form = request.form
        patch = {"title": form.get("title", "").strip(), "required": form.get("required") == "on",
                 "estimated_minutes": _int(form.get("estimated_minutes"), lesson["estimated_minutes"]),
                 "body_md": form.get("body_md", "")}
        if lesson["kind"] == "quiz":
            patch["quiz"] = _quiz(form, rows, choices)
        try:
            bff.call("PATCH", f"/lms/lessons/{lesson_id}", json=patch)
            flash(f"Lesson “{patch['title']}” saved.", "success")
            return redirect(url_for("teach.editor", course_id=course_id) + f"#lesson-{lesson_id}")
        except ApiError as exc:
            if exc.status not in (400, 409, 422):
                raise
            errors, message = exc.field_errors(), str(exc)
    form = request.form if request.method == "POST" else _lesson_form(lesson)
    return render_template("teach/lesson.html", course_id=course_id, lesson=lesson, kind=lesson["kind"],
                           kinds=KINDS, form=form, errors=errors, message=message, quiz_rows=rows,
                           choice_rows=choices), 422 if errors or message else 200


def _lesson_form(lesson: dict) -> dict:
    """The lesson as the editor's form fields (the inverse of :func:`_quiz`)."""
    form = {"title": lesson["title"], "estimated_minutes": lesson["estimated_minutes"],
            "required": "on" if lesson["required"] else "", "body_md": lesson.get("body_md", "")}
    quiz = lesson.get("quiz")
    if quiz:
        form.update(pass_percent=quiz["pass_percent"], max_attempts=quiz["max_attempts"])
        for q, question in enumerate(quiz["questions"]):
            form[f"q{q}-prompt"] = question["prompt"]
            for c, choice in enumerate(question["choices"]):
                form[f"q{q}-c{c}"] = choice["text"]
                if choice.get("correct"):
                    form.setdefault(f"q{q}-correct", str(c))
    return form


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
    """Enrolments, completion, each learner's progress and per quiz the scores (the API's report)."""
    return render_template("teach/results.html", course_id=course_id,
                           report=bff.call("GET", f"/lms/courses/{course_id}/results"))
