"""Render a certificate of completion as a one-page PDF (fpdf2). Pure: facts in, bytes out."""
from __future__ import annotations

from fpdf import FPDF


def _latin1(text: str) -> str:
    # The core PDF fonts are Latin-1; replace what they cannot show instead of failing.
    return text.encode("latin-1", "replace").decode("latin-1")


def render(*, certificate_id: str, learner_name: str, course_title: str, issued_at: str,
           verify_url: str, issuer: str = "CareerOS") -> bytes:
    """A landscape A4 page naming the learner, the course, the issuer (the organisation that
    owns the course, or CareerOS for its public catalog) and where to verify it."""
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(_latin1(f"Certificate: {course_title}"))
    pdf.set_author(_latin1(issuer or "CareerOS"))
    pdf.add_page()
    pdf.set_draw_color(40, 70, 140)
    pdf.set_line_width(1.5)
    pdf.rect(10, 10, 277, 190)
    pdf.set_font("Helvetica", "B", 30)
    pdf.set_y(35)
    pdf.cell(0, 14, "Certificate of Completion", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 14)
    pdf.ln(8)
    pdf.cell(0, 10, "This certifies that", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 22)
    pdf.cell(0, 14, _latin1(learner_name or "a CareerOS learner"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 14)
    pdf.cell(0, 10, "has completed the course", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 20)
    pdf.multi_cell(0, 12, _latin1(course_title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 12)
    pdf.ln(6)
    pdf.cell(0, 8, _latin1(f"Issued by {issuer or 'CareerOS'} on {issued_at[:10]}"), align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.set_y(178)
    pdf.cell(0, 6, f"Certificate id {certificate_id}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, _latin1(f"Verify at {verify_url}"), align="C")
    return bytes(pdf.output())
