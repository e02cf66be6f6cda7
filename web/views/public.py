"""Pages anyone can open: landing, catalog, course page, plans and prices, certificate verification."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlparse

from flask import Blueprint, Response, render_template, request

from web import bff
from web.api import ApiError

bp = Blueprint("public", __name__)
LEVELS = (("beginner", "Beginner"), ("intermediate", "Intermediate"), ("advanced", "Advanced"))
FILTERS = ("q", "level", "track", "language", "skill")


@bp.get("/")
def home():
    featured = bff.maybe_call("GET", "/lms/courses", params={"page_size": 6})
    return render_template("public/home.html", featured=featured["items"], total=featured["total"])


@bp.get("/courses")
def catalog():
    """Search with filters; htmx asks for the results partial only (active search)."""
    args = {k: request.args.get(k, "").strip() for k in FILTERS}
    page = max(1, request.args.get("page", 1, type=int) or 1)
    errors, results = {}, {"items": [], "total": 0, "page": page, "page_size": 12}
    try:
        results = bff.maybe_call("GET", "/lms/courses", params={**{k: v for k, v in args.items() if v},
                                                                "page": page, "page_size": 12})
    except ApiError as exc:
        if exc.status != 422:
            raise
        errors = exc.field_errors()
    template = "public/_results.html" if request.headers.get("HX-Request") else "public/catalog.html"
    return render_template(template, args=args, results=results, errors=errors, levels=LEVELS,
                           pages=-(-results["total"] // results["page_size"]) if results["total"] else 0)


@bp.get("/courses/<uuid:course_id>")
def course(course_id):
    course = bff.maybe_call("GET", f"/lms/courses/{course_id}")
    return render_template("public/course.html", course=course)


@bp.get("/pricing")
def pricing():
    plans = bff.call("GET", "/billing/plans", anonymous=True)
    return render_template("public/pricing.html", plans=plans)


@bp.get("/certificates/<uuid:certificate_id>")
def certificate(certificate_id):
    """The public verification page of a certificate (no account needed)."""
    facts = bff.call("GET", f"/lms/certificates/{certificate_id}", anonymous=True)
    return render_template("public/certificate.html", cert=facts, certificate_id=certificate_id)


@bp.get("/certificates/<uuid:certificate_id>.pdf")
def certificate_pdf(certificate_id):
    """The certificate's PDF through its signed link (the API's URL may be internal to this server)."""
    facts = bff.call("GET", f"/lms/certificates/{certificate_id}", anonymous=True)
    link = urlparse(facts.get("pdf_url", ""))
    path = link.path.split("/api/v1", 1)[-1]
    pdf = bff.call("GET", path, anonymous=True, params=dict(parse_qsl(link.query)), raw=True)
    return Response(pdf.content, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="certificate-{certificate_id}.pdf"'})
