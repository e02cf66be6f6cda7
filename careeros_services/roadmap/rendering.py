"""Pictures of a roadmap: an SVG drawing of the DAG and a Mermaid flowchart. Pure Python.

Layered layout: one column per depth (longest prerequisite chain), milestones
in plan order within a column, each box as tall as its wrapped text (the skill,
its state and hours, the linked courses). Arrows are orthogonal: they leave a
prerequisite's right side, run vertically only in the empty gaps between
columns, cross intermediate columns along a free lane, and enter the
dependant's left side. Every piece of text is escaped (skill names come from a
provider and a learner's profile: they are data, never markup).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from careeros_services.roadmap.text_metrics import FONT_FAMILY, wrap

COLOURS = {  # fill, stroke
    "pending": ("#eef1f5", "#8a94a6"),
    "learning": ("#fff4d6", "#d9a400"),
    "done": ("#dcf5e3", "#2e9e55"),
    "skipped": ("#e8e8e8", "#b0b0b0"),
}
NODE_W, PAD, COL_GAP, ROW_GAP, MARGIN = 230, 10, 90, 28, 20
TITLE_SIZE, TEXT_SIZE, HEADING_SIZE, SUB_SIZE = 13, 11, 15, 12
BAR_H = 5
MAX_COURSES = 3
MIN_CONTENT_W = 440
CLEARANCE = 8  # how far an arrow keeps from a box it passes


@dataclass
class Line:
    text: str
    size: int
    bold: bool = False
    colour: str = "#222"

    @property
    def height(self) -> float:
        return round(self.size * 1.4, 1)


@dataclass
class Node:
    milestone: dict
    lines: list[Line]
    x: float = 0.0
    y: float = 0.0
    h: float = 0.0
    edges_in: list = field(default_factory=list)

    @property
    def right(self) -> float:
        return self.x + NODE_W

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def mid(self) -> float:
        return self.y + self.h / 2


def _lines(m: dict) -> list[Line]:
    """What a box says, wrapped to its width: the skill, its state and hours, the linked courses."""
    inner = NODE_W - 2 * PAD
    status = m.get("status", "pending")
    percent = int(m.get("percent", 0))
    hours = "already known" if m["skipped"] else f"{m['planned_hours']} h"
    weeks = f", weeks {m['start_week']}\u2013{m['end_week']}" if m.get("start_week") else ""
    out = [Line(t, TITLE_SIZE, True) for t in wrap(f"{m['skill_name']} (L{m['level']})", inner, TITLE_SIZE, True)]
    out += [Line(t, TEXT_SIZE, colour="#444")
            for t in wrap(f"{status} \u00b7 {percent}% \u00b7 {hours}{weeks}", inner, TEXT_SIZE, max_lines=2)]
    courses = m.get("courses") or []
    for course in courses[:MAX_COURSES]:
        out += [Line(t, TEXT_SIZE, colour="#1f4e8c")
                for t in wrap(f"\u25b8 {course['title']}", inner, TEXT_SIZE, max_lines=2)]
    if len(courses) > MAX_COURSES:
        out.append(Line(f"+{len(courses) - MAX_COURSES} more courses", TEXT_SIZE, colour="#1f4e8c"))
    return out


def _layout(milestones: list[dict], top: float) -> tuple[dict[str, Node], dict[int, list[Node]]]:
    """One column per depth, boxes in plan order, each as tall as its text."""
    nodes: dict[str, Node] = {}
    columns: dict[int, list[Node]] = {}
    for m in sorted(milestones, key=lambda m: (m["depth"], m["position"])):
        node = Node(m, _lines(m))
        node.h = PAD + sum(line.height for line in node.lines) + 6 + BAR_H + PAD
        column = columns.setdefault(m["depth"], [])
        node.x = MARGIN + m["depth"] * (NODE_W + COL_GAP)
        node.y = column[-1].bottom + ROW_GAP if column else top
        column.append(node)
        nodes[m["skill_id"]] = node
    return nodes, columns


def _lane_y(columns: dict[int, list[Node]], between: range, near: float, top: float) -> float:
    """A height at which a horizontal line crosses the columns ``between`` without touching a box:
    the free height nearest to ``near`` (below every box, at worst)."""
    boxes = [(n.y - CLEARANCE, n.bottom + CLEARANCE) for c in between for n in columns.get(c, [])]
    candidates = [top - ROW_GAP / 2] + [b + ROW_GAP / 2 for _, b in boxes] + [near]
    free = [y for y in candidates if all(not lo <= y <= hi for lo, hi in boxes)]
    return min(free, key=lambda y: (abs(y - near), y))


def _routes(nodes: dict[str, Node], columns: dict[int, list[Node]], top: float) -> list[list[tuple[float, float]]]:
    """Orthogonal arrows: out of the prerequisite's right side into the gap after its column, along a free
    lane across any columns between, and into the dependant's left side from the gap before its column.
    Vertical runs stay inside the gaps (no boxes there), each arrow on its own x in a gap."""
    edges = [(nodes[pre], node) for node in nodes.values() for pre in node.milestone["prerequisites"]]
    users: dict[int, list[tuple[int, str]]] = {}
    for i, (src, dst) in enumerate(edges):
        users.setdefault(src.milestone["depth"], []).append((i, "out"))
        if dst.milestone["depth"] - src.milestone["depth"] > 1:
            users.setdefault(dst.milestone["depth"] - 1, []).append((i, "in"))
    lane_x: dict[tuple[int, str], float] = {}
    for gap, using in users.items():
        left = MARGIN + gap * (NODE_W + COL_GAP) + NODE_W
        for k, use in enumerate(using):
            lane_x[use] = round(left + (k + 1) * COL_GAP / (len(using) + 1), 1)
    routes = []
    for i, (src, dst) in enumerate(edges):
        a, b = src.milestone["depth"], dst.milestone["depth"]
        x_out, y_src, y_dst = lane_x[(i, "out")], round(src.mid, 1), round(dst.mid, 1)
        if b - a == 1:
            routes.append([(src.right, y_src), (x_out, y_src), (x_out, y_dst), (dst.x, y_dst)])
            continue
        lane = round(_lane_y(columns, range(a + 1, b), (y_src + y_dst) / 2, top), 1)
        x_in = lane_x[(i, "in")]
        routes.append([(src.right, y_src), (x_out, y_src), (x_out, lane), (x_in, lane), (x_in, y_dst),
                       (dst.x, y_dst)])
    return routes


def _node_svg(node: Node) -> list[str]:
    m = node.milestone
    status = m.get("status", "pending")
    fill, stroke = COLOURS.get(status, COLOURS["pending"])
    percent = max(0, min(100, int(m.get("percent", 0))))
    out = [f'<g class={quoteattr("milestone " + status)} data-skill={quoteattr(m["skill_id"])}>',
           f"<title>{escape(m['skill_name'])} (L{m['level']}): {escape(status)}, {percent}%</title>",
           f'<rect class="box" x="{node.x}" y="{node.y}" width="{NODE_W}" height="{node.h}" rx="8" '
           f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>']
    y = node.y + PAD
    for line in node.lines:
        y += line.height
        weight = ' font-weight="bold"' if line.bold else ""
        out.append(f'<text x="{node.x + PAD}" y="{round(y - line.size * 0.3, 1)}" font-size="{line.size}"'
                   f'{weight} fill="{line.colour}">{escape(line.text)}</text>')
    bar_y = node.bottom - PAD - BAR_H
    out.append(f'<rect class="track" x="{node.x + PAD}" y="{bar_y}" width="{NODE_W - 2 * PAD}" height="{BAR_H}" '
               f'fill="#ffffff" stroke="{stroke}" stroke-width="0.5"/>')
    out.append(f'<rect class="bar" x="{node.x + PAD}" y="{bar_y}" width="{(NODE_W - 2 * PAD) * percent / 100}" '
               f'height="{BAR_H}" fill="{stroke}"/>')
    out.append("</g>")
    return out


def render_svg(roadmap: dict) -> str:
    """``roadmap``: a version as the service returns it (milestones with percent, status and courses).

    Every label is wrapped to its box (measured with the fonts' advance widths), every column
    fits the canvas, and arrows run orthogonally through the gaps between columns and free lanes.
    """
    milestones = roadmap["milestones"]
    depths = max([m["depth"] for m in milestones], default=0) + 1
    content_w = max(depths * NODE_W + (depths - 1) * COL_GAP, MIN_CONTENT_W)
    title = f"{roadmap['target_role']} \u2014 version {roadmap['version']}"
    progress = roadmap.get("progress", {})
    subtitle = (f"{progress.get('percent', 0)}% done, {progress.get('schedule_status', 'on_track')}"
                f" ({progress.get('weeks_ahead', 0):+} weeks)")
    heading = [Line(t, HEADING_SIZE, True) for t in wrap(title, content_w, HEADING_SIZE, True, max_lines=2)]
    heading += [Line(t, SUB_SIZE, colour="#555") for t in wrap(subtitle, content_w, SUB_SIZE, max_lines=2)]
    top = MARGIN + sum(line.height for line in heading) + ROW_GAP
    nodes, columns = _layout(milestones, top)
    routes = _routes(nodes, columns, top)
    lowest = max([n.bottom for n in nodes.values()] + [y for r in routes for _, y in r], default=top)
    width_px, height_px = int(content_w + 2 * MARGIN), int(lowest + MARGIN + 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_px}" height="{height_px}" '
           f'viewBox="0 0 {width_px} {height_px}" font-family="{FONT_FAMILY}" font-size="{TEXT_SIZE}">',
           f"<title>{escape(title)}</title>",
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8a94a6"/>'
           "</marker></defs>",
           f'<rect x="0" y="0" width="{width_px}" height="{height_px}" fill="#ffffff"/>']
    y = MARGIN
    for line in heading:
        y += line.height
        weight = ' font-weight="bold"' if line.bold else ""
        out.append(f'<text x="{MARGIN}" y="{round(y - line.size * 0.3, 1)}" font-size="{line.size}"{weight} '
                   f'fill="{line.colour}">{escape(line.text)}</text>')
    for route in routes:
        points = " L".join(f"{x},{y}" for x, y in route)
        out.append(f'<path class="edge" d="M{points}" fill="none" stroke="#8a94a6" stroke-width="1.3" '
                   f'marker-end="url(#arrow)"/>')
    for node in nodes.values():
        out.extend(_node_svg(node))
    out.append("</svg>")
    return "\n".join(out)


def _mermaid_text(text: str) -> str:
    """Mermaid label text: anything but letters, digits and plain spaces/punctuation as ``#NNN;``."""
    safe = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-+/:()%")
    return "".join(ch if ch in safe else f"#{ord(ch)};" for ch in text)


def render_mermaid(roadmap: dict) -> str:
    """A Mermaid ``flowchart LR`` with one node per milestone and a class per status."""
    ids = {m["skill_id"]: f"m{i}" for i, m in enumerate(roadmap["milestones"])}
    lines = ["flowchart LR"]
    for m in roadmap["milestones"]:
        status = m.get("status", "pending")
        label = f"{m['skill_name']} L{m['level']} - {status} {int(m.get('percent', 0))}%"
        lines.append(f'    {ids[m["skill_id"]]}["{_mermaid_text(label)}"]:::{status}')
    for m in roadmap["milestones"]:
        for pre in m["prerequisites"]:
            lines.append(f"    {ids[pre]} --> {ids[m['skill_id']]}")
    for status, (fill, stroke) in COLOURS.items():
        lines.append(f"    classDef {status} fill:{fill},stroke:{stroke}")
    return "\n".join(lines) + "\n"
