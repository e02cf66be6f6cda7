"""Courses, revisions, enrolment access, quizzes and completion: the LMS rules. Pure Python.

No database, broker or framework. Every validator raises :class:`ValidationFailed`
naming each bad field at once; state transitions raise :class:`Conflict`; access
rules raise :class:`Forbidden` with a stable code.

Revisions (the decision for "editing a published course"): modules and lessons are a
*working copy* that authors edit freely; ``publish`` freezes the working copy into an
immutable revision (``revision`` + 1) that learners read. Lesson ids never change and are
never reused, so progress recorded against a lesson (tracker statements, quiz attempts)
stays attached to it; a lesson removed from the working copy disappears from the next
revision and from then on counts neither for nor against completion (completion is always
judged against the latest published revision). Course metadata (title, summary, tags,
skills…) is catalog data and changes at once.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from careeros_services.common import skills as skill_table
from careeros_services.common.errors import Conflict, Forbidden, ValidationFailed
from contracts.lms import (ALL_ASSET_TYPES, ASSET_TYPES, KINDS, LEVELS, MAX_BODY,  # noqa: F401 - shared with the gateway
                           MAX_CHOICES, MAX_HOURS, MAX_QUESTIONS, MAX_SKILL_NAME, MAX_SKILLS, MAX_SLUG,
                           MAX_SUMMARY, MAX_TAG, MAX_TAGS, MAX_TITLE, PLATFORM_TENANT)

ASSET_KINDS = ("video", "file")
AUTHOR_ROLES = ("owner", "admin", "instructor")
FREE_TIER = "free"
DRAFT, PUBLISHED, ARCHIVED = "draft", "published", "archived"

ENTITLEMENT_REQUIRED = "entitlement_required"
XAPI_HOME = "https://careeros.dev"
VERB = "http://adlnet.gov/expapi/verbs/"


def _text(value: Any, name: str, errors: dict, *, max_len: int, required: bool = True,
          multiline: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = ["must be a string"]
        return ""
    value = value.strip()
    if required and not value:
        errors[name] = ["must not be empty"]
    elif len(value) > max_len:
        errors[name] = [f"must be at most {max_len} characters"]
    elif any(unicodedata.category(c) == "Cc" and not (multiline and c in "\n\t\r") for c in value):
        errors[name] = ["must not contain control characters"]
    return value


def _int(value: Any, name: str, errors: dict, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = ["must be an integer"]
        return lo
    if not lo <= value <= hi:
        errors[name] = [f"must be between {lo} and {hi}"]
    return value


def slugify(title: str) -> str:
    out, dash = [], False
    for ch in unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower():
        if ch.isalnum():
            out.append(ch)
            dash = False
        elif not dash and out:
            out.append("-")
            dash = True
    return "".join(out).strip("-")[:MAX_SLUG] or "course"


COURSE_FIELDS = ("title", "summary", "level", "language", "estimated_hours", "tags", "skills", "track",
                 "premium", "slug")


def validate_course(data: dict, *, partial: bool = False) -> dict:
    """A clean course-metadata dict; ``partial`` for PATCH (only the given fields)."""
    errors: dict = {}
    unknown = [k for k in data if k not in COURSE_FIELDS]
    for k in unknown:
        errors[k] = ["is not a field of a course that can be set"]
    out: dict = {}

    def has(name: str) -> bool:
        return name in data or not partial

    if has("title"):
        out["title"] = _text(data.get("title"), "title", errors, max_len=MAX_TITLE)
    if has("summary"):
        out["summary"] = _text(data.get("summary"), "summary", errors, max_len=MAX_SUMMARY, required=False,
                               multiline=True)
    if has("level"):
        level = data.get("level", "beginner")
        if level not in LEVELS:
            errors["level"] = [f"must be one of {', '.join(LEVELS)}"]
        out["level"] = level
    if has("language"):
        lang = _text(data.get("language", "en"), "language", errors, max_len=35)
        if lang and not all(p.isalnum() for p in lang.split("-")):
            errors["language"] = ["must be a BCP 47 language tag such as en or pt-BR"]
        out["language"] = lang
    if has("estimated_hours"):
        out["estimated_hours"] = _int(data.get("estimated_hours", 1), "estimated_hours", errors, 0, MAX_HOURS)
    if has("track"):
        out["track"] = _text(data.get("track", ""), "track", errors, max_len=80, required=False)
    if has("premium"):
        premium = data.get("premium", False)
        if not isinstance(premium, bool):
            errors["premium"] = ["must be a boolean"]
        out["premium"] = bool(premium)
    if has("tags"):
        tags = data.get("tags", [])
        if not isinstance(tags, list) or len(tags) > MAX_TAGS:
            errors["tags"] = [f"must be a list of at most {MAX_TAGS} strings"]
        else:
            clean = []
            for i, tag in enumerate(tags):
                t = _text(tag, f"tags.{i}", errors, max_len=MAX_TAG).lower()
                if t and t not in clean:
                    clean.append(t)
            out["tags"] = clean
    if has("skills"):
        out["skills"] = _skills(data.get("skills", []), errors)
    if "slug" in data:
        slug = data["slug"]
        if not isinstance(slug, str) or not slug or slugify(slug) != slug:
            errors["slug"] = ["must be lowercase letters, digits and dashes"]
        out["slug"] = slug
    if errors:
        raise ValidationFailed("The course is not valid.", fields=errors)
    return out


def _skills(skills: Any, errors: dict) -> list[dict]:
    if not isinstance(skills, list) or len(skills) > MAX_SKILLS:
        errors["skills"] = [f"must be a list of at most {MAX_SKILLS} skills"]
        return []
    out = []
    for i, skill in enumerate(skills):
        if not isinstance(skill, dict):
            errors[f"skills.{i}"] = ["must be an object with name, esco_uri and level"]
            continue
        name = _text(skill.get("name"), f"skills.{i}.name", errors, max_len=MAX_SKILL_NAME)
        uri = skill.get("esco_uri", "") or ""
        if not isinstance(uri, str) or (uri and not uri.startswith("http://data.europa.eu/esco/skill/")):
            errors[f"skills.{i}.esco_uri"] = ["must be an ESCO skill URI or empty"]
        level = _int(skill.get("level", 1), f"skills.{i}.level", errors, 1, 5)
        out.append({"name": name, "esco_uri": uri if isinstance(uri, str) else "", "level": level})
    if errors:
        return out  # refused anyway; nothing to resolve
    # Names resolve through the shared skill table (common.skills), for platform and organisation courses
    # alike: a course teaching "Excel" teaches Spreadsheets, with its ESCO URI.
    return skill_table.normalise_skills(out)


def skill_keys(skills: Iterable[dict]) -> list[str]:
    """Search keys of a course's skills: casefolded names and ESCO URIs."""
    keys: list[str] = []
    for s in skills:
        for k in (s["name"].casefold(), s.get("esco_uri") or ""):
            if k and k not in keys:
                keys.append(k)
    return keys


# --- authoring --------------------------------------------------------------------------------

def require_author(org_role: str) -> None:
    if org_role not in AUTHOR_ROLES:
        raise Forbidden("Only owners, admins and instructors of the organisation author courses.",
                        code="author_role_required")


def next_status(status: str, action: str) -> str:
    """draft -> published (publish again = new revision) -> archived; archived is final."""
    if action == "publish":
        if status == ARCHIVED:
            raise Conflict("An archived course cannot be published again.", code="course_archived")
        return PUBLISHED
    if action == "archive":
        if status == ARCHIVED:
            raise Conflict("The course is already archived.", code="course_archived")
        return ARCHIVED
    raise ValueError(action)


def validate_module(data: dict) -> dict:
    errors: dict = {}
    title = _text(data.get("title"), "title", errors, max_len=MAX_TITLE)
    position = data.get("position")
    if position is not None:
        _int(position, "position", errors, 0, 1000)
    if errors:
        raise ValidationFailed("The module is not valid.", fields=errors)
    return {"title": title, "position": position}


def validate_module_patch(data: dict) -> dict:
    """A module edit: a new ``title`` and/or a new ``position`` (0-based; a move)."""
    errors: dict = {}
    for k in data:
        if k not in ("title", "position"):
            errors[k] = ["is not a field of a module"]
    out: dict = {}
    if "title" in data:
        out["title"] = _text(data["title"], "title", errors, max_len=MAX_TITLE)
    if "position" in data:
        out["position"] = _int(data["position"], "position", errors, 0, 1000)
    if not data:
        errors["title"] = ["give a title and/or a position"]
    if errors:
        raise ValidationFailed("The module change is not valid.", fields=errors)
    return out


def validate_quiz(quiz: Any, errors: dict, prefix: str = "quiz") -> dict:
    if not isinstance(quiz, dict):
        errors[prefix] = ["a quiz lesson needs a quiz with questions"]
        return {}
    pass_percent = _int(quiz.get("pass_percent", 70), f"{prefix}.pass_percent", errors, 0, 100)
    max_attempts = _int(quiz.get("max_attempts", 3), f"{prefix}.max_attempts", errors, 0, 100)  # 0 = unlimited
    questions = quiz.get("questions")
    if not isinstance(questions, list) or not 1 <= len(questions) <= MAX_QUESTIONS:
        errors[f"{prefix}.questions"] = [f"must be a list of 1 to {MAX_QUESTIONS} questions"]
        return {}
    out = []
    for i, q in enumerate(questions):
        where = f"{prefix}.questions.{i}"
        if not isinstance(q, dict):
            errors[where] = ["must be an object"]
            continue
        prompt = _text(q.get("prompt"), f"{where}.prompt", errors, max_len=1000, multiline=True)
        choices = q.get("choices")
        if not isinstance(choices, list) or not 2 <= len(choices) <= MAX_CHOICES:
            errors[f"{where}.choices"] = [f"must be a list of 2 to {MAX_CHOICES} choices"]
            continue
        clean = []
        for j, c in enumerate(choices):
            if not isinstance(c, dict):
                errors[f"{where}.choices.{j}"] = ["must be an object with text and correct"]
                continue
            text = _text(c.get("text"), f"{where}.choices.{j}.text", errors, max_len=500)
            correct = c.get("correct", False)
            if not isinstance(correct, bool):
                errors[f"{where}.choices.{j}.correct"] = ["must be a boolean"]
            clean.append({"id": c.get("id"), "text": text, "correct": bool(correct)})
        n_correct = sum(c["correct"] for c in clean)
        multiple = bool(q.get("multiple", False))
        if n_correct == 0 or (n_correct > 1 and not multiple):
            errors[f"{where}.choices"] = ["exactly one choice must be correct (or set multiple for several)"]
        out.append({"id": q.get("id"), "prompt": prompt, "multiple": multiple, "choices": clean})
    return {"pass_percent": pass_percent, "max_attempts": max_attempts, "questions": out}


def validate_lesson(data: dict) -> dict:
    errors: dict = {}
    unknown = [k for k in data if k not in ("title", "kind", "required", "estimated_minutes", "body_md",
                                            "quiz", "position")]
    for k in unknown:
        errors[k] = ["is not a field of a lesson"]
    title = _text(data.get("title"), "title", errors, max_len=MAX_TITLE)
    kind = data.get("kind")
    if kind not in KINDS:
        errors["kind"] = [f"must be one of {', '.join(KINDS)}"]
    required = data.get("required", True)
    if not isinstance(required, bool):
        errors["required"] = ["must be a boolean"]
    minutes = _int(data.get("estimated_minutes", 10), "estimated_minutes", errors, 0, 10_000)
    body = _text(data.get("body_md", ""), "body_md", errors, max_len=MAX_BODY, required=kind == "article",
                 multiline=True)
    quiz = validate_quiz(data.get("quiz"), errors) if kind == "quiz" else None
    if kind != "quiz" and data.get("quiz") is not None:
        errors["quiz"] = ["only quiz lessons have a quiz"]
    position = data.get("position")
    if position is not None:
        _int(position, "position", errors, 0, 1000)
    if errors:
        raise ValidationFailed("The lesson is not valid.", fields=errors)
    return {"title": title, "kind": kind, "required": bool(required), "estimated_minutes": minutes,
            "body_md": body, "quiz": quiz, "position": position}


def publish_problems(modules: list[dict]) -> dict:
    """Why the working copy cannot be published (empty dict: it can)."""
    errors: dict = {}
    lessons = [l for m in modules for l in m["lessons"]]
    if not lessons:
        errors["modules"] = ["a course needs at least one lesson to be published"]
    for l in lessons:
        if l["kind"] in ASSET_KINDS and not l.get("asset"):
            errors[f"lessons.{l['id']}.asset"] = [f"a {l['kind']} lesson needs an uploaded asset"]
    return errors


def snapshot(course: dict, modules: list[dict]) -> dict:
    """The immutable published structure (with content and quiz answers: server-side only)."""
    return {"course_id": course["id"], "title": course["title"], "modules": [
        {"module_id": m["id"], "title": m["title"], "position": pi, "lessons": [
            {"lesson_id": l["id"], "title": l["title"], "kind": l["kind"], "required": l["required"],
             "position": li, "estimated_minutes": l["estimated_minutes"], "body_md": l.get("body_md", ""),
             "quiz": l.get("quiz"), "asset": l.get("asset")}
            for li, l in enumerate(m["lessons"])]}
        for pi, m in enumerate(modules)]}


def outline(snap: dict) -> list[dict]:
    """The structure as the course.published event carries it (no content)."""
    keys = ("lesson_id", "title", "kind", "required", "position", "estimated_minutes")
    return [{"module_id": m["module_id"], "title": m["title"], "position": m["position"],
             "lessons": [{k: l[k] for k in keys} for l in m["lessons"]]} for m in snap["modules"]]


def find_lesson(snap: dict, lesson_id: str) -> Optional[dict]:
    for m in snap["modules"]:
        for l in m["lessons"]:
            if l["lesson_id"] == lesson_id:
                return l
    return None


def public_quiz(quiz: dict) -> dict:
    """The quiz as a learner sees it before submitting: no ``correct`` flags."""
    return {"pass_percent": quiz["pass_percent"], "max_attempts": quiz["max_attempts"], "questions": [
        {"id": q["id"], "prompt": q["prompt"], "multiple": q["multiple"],
         "choices": [{"id": c["id"], "text": c["text"]} for c in q["choices"]]} for q in quiz["questions"]]}


# --- access ---------------------------------------------------------------------------------

def access(premium: bool, plan_tier: str) -> str:
    """``full`` or ``read_only``: checked from the token's plan at every access (a lapsed plan
    keeps the enrolment, read-only; upgrading restores it)."""
    return "read_only" if premium and plan_tier in ("", FREE_TIER) else "full"


def require_entitlement(premium: bool, plan_tier: str) -> None:
    if access(premium, plan_tier) != "full":
        raise Forbidden("This is a premium course: it needs a paid plan.", code=ENTITLEMENT_REQUIRED)


# --- quizzes --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Grade:
    score_percent: int
    passed: bool
    correct: int
    total: int
    results: list  # [{"question_id", "correct"}]


def grade(quiz: dict, answers: Any) -> Grade:
    """Grade ``answers`` ({question_id: [choice_id, ...]}) on the server.

    A question scores when the chosen set equals the correct set exactly; unanswered
    questions score nothing. Unknown question or choice ids are refused (422).
    """
    if not isinstance(answers, dict):
        raise ValidationFailed("answers must map question ids to lists of choice ids.",
                               fields={"answers": ["must be an object"]})
    questions = {q["id"]: q for q in quiz["questions"]}
    errors = {}
    for qid, chosen in answers.items():
        q = questions.get(qid)
        if q is None:
            errors[f"answers.{qid}"] = ["is not a question of this quiz"]
            continue
        ids = {c["id"] for c in q["choices"]}
        if not isinstance(chosen, list) or not all(isinstance(c, str) and c in ids for c in chosen):
            errors[f"answers.{qid}"] = ["must be a list of this question's choice ids"]
        elif not q["multiple"] and len(chosen) > 1:
            errors[f"answers.{qid}"] = ["this question takes one choice"]
    if errors:
        raise ValidationFailed("The answers are not valid.", fields=errors)
    results = []
    for q in quiz["questions"]:
        right = {c["id"] for c in q["choices"] if c["correct"]}
        results.append({"question_id": q["id"], "correct": set(answers.get(q["id"], [])) == right})
    correct = sum(r["correct"] for r in results)
    total = len(results)
    score = round(100 * correct / total) if total else 0
    return Grade(score, score >= quiz["pass_percent"], correct, total, results)


def check_attempts_left(quiz: dict, attempts_so_far: int, already_passed: bool) -> None:
    if already_passed:
        raise Conflict("You already passed this quiz.", code="quiz_already_passed")
    if quiz["max_attempts"] and attempts_so_far >= quiz["max_attempts"]:
        raise Conflict(f"No attempts left (limit {quiz['max_attempts']}).", code="attempt_limit_reached")


# --- completion (the LMS owns it; everyone else learns it from enrollment.completed) -------------

def required_quizzes(snap: dict) -> list[str]:
    return [l["lesson_id"] for m in snap["modules"] for l in m["lessons"] if l["kind"] == "quiz" and l["required"]]


def counted_lessons(snap: dict) -> list[str]:
    """The lessons completion depends on: the required ones, or every lesson when none is required
    (the tracker's percent counts the same set, so 100 % and "complete" mean the same lessons)."""
    lessons = [l for m in snap["modules"] for l in m["lessons"]]
    required = [l["lesson_id"] for l in lessons if l["required"]]
    return required or [l["lesson_id"] for l in lessons]


def is_complete(snap: dict, tracker_required_done: bool, done_lesson_ids: Iterable[str],
                passed_quiz_ids: Iterable[str]) -> bool:
    """Complete = every required quiz of the latest revision passed (our own graded attempts,
    never a statement) AND every counted lesson done, as the LMS recorded it on the learner's
    behalf (opened, marked done, passed) or as the tracker reports it (``required_done``, which
    also covers statements a client or an xAPI player sent)."""
    passed = set(passed_quiz_ids)
    if not all(q in passed for q in required_quizzes(snap)):
        return False
    done = set(done_lesson_ids) | passed
    return bool(tracker_required_done) or all(l in done for l in counted_lessons(snap))


# Verbs the LMS records on the learner's behalf (ADL vocabulary): opening an article or a file
# is reading it (done); opening a video or a quiz only launches it (finishing the video is
# ``complete_lesson``; a quiz is done when passed).
OPEN_VERBS = {"article": "completed", "file": "completed", "video": "launched", "quiz": "launched"}
DONE_VERBS = ("completed", "passed")


def verb_on_open(kind: str) -> str:
    return OPEN_VERBS[kind]


def require_markable(kind: str) -> None:
    """A quiz is done only by passing it; every other lesson can be marked done explicitly."""
    if kind == "quiz":
        raise ValidationFailed("A quiz lesson is done when you pass it.",
                               fields={"lesson_id": ["is a quiz: submit an attempt instead"]},
                               code="quiz_needs_attempt")


# --- xAPI -----------------------------------------------------------------------------------

def statement(user_id: str, verb: str, *, course_id: str, lesson_id: Optional[str] = None,
              title: str = "", score_percent: Optional[int] = None, success: Optional[bool] = None,
              statement_id: Optional[str] = None, timestamp: Optional[str] = None) -> dict:
    """An xAPI statement in the shape the tracker's statements API accepts."""
    course_iri = f"{XAPI_HOME}/xapi/courses/{course_id}"
    object_iri = f"{XAPI_HOME}/xapi/lessons/{lesson_id}" if lesson_id else course_iri
    stmt: dict = {
        "actor": {"objectType": "Agent", "account": {"homePage": XAPI_HOME, "name": user_id}},
        "verb": {"id": VERB + verb, "display": {"en-US": verb}},
        "object": {"objectType": "Activity", "id": object_iri,
                   "definition": {"name": {"en-US": title or object_iri}}},
    }
    if statement_id:
        stmt["id"] = statement_id
    if timestamp:
        stmt["timestamp"] = timestamp
    if lesson_id:
        stmt["context"] = {"contextActivities": {"parent": [{"id": course_iri}]}}
    if score_percent is not None or success is not None:
        result: dict = {}
        if score_percent is not None:
            result["score"] = {"scaled": round(score_percent / 100, 4), "raw": score_percent, "min": 0, "max": 100}
        if success is not None:
            result["success"] = success
            result["completion"] = True
        stmt["result"] = result
    return stmt


def published_payload(course: dict, snap: dict, revision: int) -> dict:
    """The ``careeros.lms.course.published.v1`` payload of a course and its new revision."""
    return {"course_id": course["id"], "tenant_id": course["tenant_id"],
            "visibility": "public" if course["tenant_id"] == PLATFORM_TENANT else "tenant",
            "slug": course["slug"], "title": course["title"], "level": course["level"],
            "language": course["language"], "estimated_hours": course["estimated_hours"],
            "premium": course["premium"], "skills": course["skills"], "track": course["track"],
            "revision": revision, "modules": outline(snap)}


# --- results (what an author sees of a course's learners) ------------------------------------

def _rate(part: int, whole: int) -> int:
    return (200 * part + whole) // (2 * whole) if whole else 0  # percent rounded half up


def question_stats(quiz: dict, answer_sets: list[dict]) -> list[dict]:
    """Per question of the quiz as it is now: of the attempts, how many answered it and got it right."""
    out = []
    for q in quiz["questions"]:
        right = {c["id"] for c in q["choices"] if c["correct"]}
        answered = [a[q["id"]] for a in answer_sets if isinstance(a.get(q["id"]), list)]
        correct = sum(set(chosen) == right for chosen in answered)
        out.append({"question_id": q["id"], "prompt": q["prompt"], "answered": len(answered), "correct": correct,
                    "correct_percent": _rate(correct, len(answer_sets))})
    return out


def course_results(snap: Optional[dict], enrollments: list[dict], attempts: list[dict]) -> dict:
    """Enrolment and completion figures, one row per learner, and per quiz its scores per question.

    ``enrollments``: the latest enrolment per learner (``status``, ``completed_at``, ``percent``...);
    ``attempts``: every quiz attempt of the course (``lesson_id``, ``score_percent``, ``passed``, ``answers``).
    """
    completed = sum(bool(e["completed_at"]) for e in enrollments)
    active = sum(e["status"] == "active" and not e["completed_at"] for e in enrollments)
    learners = [{"user_id": e["user_id"], "display_name": e["display_name"],
                 "status": "completed" if e["completed_at"] else e["status"],
                 "percent": 100 if e["completed_at"] else e["percent"], "enrolled_at": e["created_at"],
                 "completed_at": e["completed_at"] or "", "certificate_id": e["certificate_id"] or ""}
                for e in enrollments]
    quizzes = []
    for m in (snap or {}).get("modules", []):
        for lesson in m["lessons"]:
            if lesson["kind"] != "quiz":
                continue
            mine = [a for a in attempts if a["lesson_id"] == lesson["lesson_id"]]
            quizzes.append({"lesson_id": lesson["lesson_id"], "title": lesson["title"], "attempts": len(mine),
                            "passed": sum(a["passed"] for a in mine),
                            "learners_passed": len({a["user_id"] for a in mine if a["passed"]}),
                            "mean_score_percent": _rate(sum(a["score_percent"] for a in mine), 100 * len(mine))
                            if mine else 0,
                            "questions": question_stats(lesson["quiz"], [a["answers"] for a in mine])})
    return {"enrollments": {"total": len(enrollments), "active": active, "completed": completed,
                            "cancelled": len(enrollments) - active - completed,
                            "completion_rate_percent": _rate(completed, len(enrollments))},
            "learners": learners, "quizzes": quizzes}
