"""The roadmap picture's geometry: every box inside the canvas, every label inside its box (measured
with the real DejaVu fonts through Pillow, not only with the renderer's own table), no arrow segment
through a box, course names on the boxes; and rsvg (librsvg2-bin) draws every column inside the PNG."""
from __future__ import annotations

import re
import subprocess
from datetime import date
from functools import lru_cache
from io import BytesIO
from xml.etree import ElementTree

from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image, ImageFont

from careeros_services.roadmap import domain, rendering, text_metrics
from careeros_services.roadmap.domain import CatalogCourse, Goal, Proposal, ProposedMilestone as PM

SVG = "{http://www.w3.org/2000/svg}"
TODAY = date(2026, 11, 30)
FONTS = {False: "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
         True: "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"}
LONG = "Machine learning foundations with an extremely long name that has to wrap"


@lru_cache(maxsize=None)
def font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONTS[bold], size)


def real_width(text: str, size: int, bold: bool) -> float:
    return font(size, bold).getlength(text)


def picture(milestones: tuple[PM, ...], catalog=(), known=(), role: str = "Data Engineer") -> str:
    plan = domain.build_plan(Proposal("r", role, milestones), domain.known_from(known), list(catalog),
                             Goal(role, 10), TODAY)
    view = domain.overlay(plan, {}, {}, TODAY, 2)
    return rendering.render_svg({"target_role": role, "version": 2, "progress": view, "milestones": [
        {**m, **view["milestones"][m["skill_id"]]} for m in plan["milestones"]]})


def boxes_and_labels(svg: str) -> tuple[ElementTree.Element, list[tuple[dict, list[ElementTree.Element]]]]:
    root = ElementTree.fromstring(svg)
    found = []
    for group in root.findall(f"{SVG}g"):
        box = {k: float(v) for k, v in group.find(f"{SVG}rect").attrib.items() if k in ("x", "y", "width", "height")}
        found.append((box, group.findall(f"{SVG}text")))
    return root, found


def arrows(root: ElementTree.Element) -> list[list[tuple[float, float]]]:
    routes = []
    for path in root.findall(f"{SVG}path[@class='edge']"):
        routes.append([(float(x), float(y)) for x, y in re.findall(r"([-\d.]+),([-\d.]+)", path.get("d"))])
    return routes


def crosses(segment, box) -> bool:
    """Does an axis-parallel segment enter the box's interior (touching its border is fine)?"""
    (x1, y1), (x2, y2) = segment
    left, top, right, bottom = box["x"], box["y"], box["x"] + box["width"], box["y"] + box["height"]
    lo_x, hi_x, lo_y, hi_y = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
    return lo_x < right and hi_x > left and lo_y < bottom and hi_y > top


def check_geometry(svg: str) -> None:
    root, groups = boxes_and_labels(svg)
    width, height = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    for box, labels in groups:
        assert box["x"] >= 0 and box["y"] >= 0, box
        assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height, (box, width, height)
        for label in labels:
            size, bold = int(label.get("font-size")), label.get("font-weight") == "bold"
            drawn = real_width(label.text, size, bold)
            assert drawn <= text_metrics.width(label.text, size, bold) + 1  # the table never under-measures (hinting)
            assert box["x"] < float(label.get("x")) and float(label.get("x")) + drawn <= box["x"] + box["width"], (
                label.text, drawn, box)
            assert box["y"] < float(label.get("y")) - size * 0.8 and float(label.get("y")) < box["y"] + box["height"]
    for label in root.findall(f"{SVG}text"):  # the heading
        assert float(label.get("x")) + real_width(label.text, int(label.get("font-size")),
                                                  label.get("font-weight") == "bold") <= width
    for route in arrows(root):
        assert all(x1 == x2 or y1 == y2 for (x1, y1), (x2, y2) in zip(route, route[1:]))   # orthogonal
        for segment in zip(route, route[1:]):
            assert 0 <= min(segment[0][0], segment[1][0]) and max(segment[0][0], segment[1][0]) <= width
            hit = [box for box, _ in groups if crosses(segment, box)]
            assert not hit, (segment, hit)


DATA_ENGINEER = (
    PM("python", "Python", 3, 40), PM("sql", "SQL", 3, 30), PM("git", "Git", 2, 8),
    PM("spreadsheets", "Spreadsheets", 3, 30),
    PM("stats", "Statistics and probability for data-driven decisions", 3, 40, ("spreadsheets",)),
    PM("etl", "ETL pipelines and orchestration of batch workloads", 3, 30, ("python", "sql")),
    PM("cloud", "Cloud platforms (AWS/GCP/Azure)", 2, 20, ("git",)),
    PM("airflow", "Apache Airflow", 3, 25, ("etl", "git")),
    PM("dwh", "Data warehousing", 3, 30, ("etl", "sql", "stats")),
    PM("viz", "Data visualisation", 2, 15, ("spreadsheets",)),
    PM("ml", LONG, 3, 40, ("dwh", "python", "viz")))
CATALOG = (
    CatalogCourse("c1", "python-foundations", "Python Foundations", 12, (("Python", "", 3),)),
    CatalogCourse("c3", "excel", "Spreadsheet Data Analysis", 6, (("Spreadsheets", "", 3),)),
    CatalogCourse("c4", "pipelines", "Workflow orchestration in practice with Apache Airflow and friends", 16,
                  (("ETL pipelines and orchestration of batch workloads", "", 3),)))


def test_a_realistic_roadmap_fits_wraps_routes_around_boxes_and_names_its_courses(tmp_path):
    svg = picture(DATA_ENGINEER, CATALOG, known=[{"name": "Excel", "level": 3}])
    check_geometry(svg)
    root, groups = boxes_and_labels(svg)
    texts = {label.text for _, labels in groups for label in labels}
    assert {"\u25b8 Python Foundations", "\u25b8 Spreadsheet Data Analysis"} <= texts
    assert any(t.startswith("\u25b8 Workflow orchestration") for t in texts)        # wrapped, not clipped
    ml_lines = [label.text for box, labels in groups for label in labels if label.get("font-weight") == "bold"
                and label.text.split()[0] in ("Machine", "foundations", "extremely")]
    assert len(ml_lines) >= 2 and all(len(line) < len(LONG) for line in ml_lines)   # the long name wraps
    assert "skipped \u00b7 100% \u00b7 already known" in texts                      # Excel credits Spreadsheets

    # rsvg draws it: the PNG has the SVG's size and the right-hand column's border is inside it.
    source = tmp_path / "roadmap.svg"
    source.write_text(svg)
    png = subprocess.run(["rsvg-convert", str(source)], capture_output=True, check=True, timeout=60).stdout
    image = Image.open(BytesIO(png)).convert("RGB")
    assert image.size == (int(float(root.get("width"))), int(float(root.get("height"))))
    rightmost = max((box for box, _ in groups), key=lambda b: b["x"])
    edge_x = int(rightmost["x"] + rightmost["width"] - 1)
    assert image.getpixel((edge_x, int(rightmost["y"] + rightmost["height"] / 2))) != (255, 255, 255)


@st.composite
def role_graphs(draw):
    n = draw(st.integers(1, 14))
    words = st.lists(st.text("abcdefghijklmnopqrstuvwxyzWM ", min_size=1, max_size=14), min_size=1, max_size=5)
    milestones = []
    for i in range(n):
        pres = draw(st.lists(st.sampled_from([f"s{j}" for j in range(i)]), max_size=3, unique=True)) if i else []
        name = (" ".join(draw(words)).strip() or "x")[:80]
        milestones.append(PM(f"s{i}", name, draw(st.integers(1, 5)), draw(st.integers(0, 60)), tuple(pres)))
    courses = tuple(CatalogCourse(f"c{i}", f"c{i}", draw(st.text("abcdefWM \u00e9\u65e5", min_size=1, max_size=90)),
                                  5, ((m.skill_name, "", 5),)) for i, m in enumerate(milestones[:4]))
    return tuple(milestones), courses


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(role_graphs())
def test_any_roadmap_keeps_boxes_in_the_canvas_labels_in_their_boxes_and_arrows_off_the_boxes(case):
    milestones, courses = case
    check_geometry(picture(milestones, courses))
