"""Pictures of a roadmap: an SVG drawing of the DAG and a Mermaid flowchart. Pure Python.

Layered layout: one column per depth (longest prerequisite chain), milestones
in plan order within a column; an edge runs from a prerequisite's right edge
to its dependant's left edge. Every piece of text is escaped (skill names come
from a provider and a learner's profile: they are data, never markup).
"""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

COLOURS = {  # fill, stroke
    "pending": ("#eef1f5", "#8a94a6"),
    "learning": ("#fff4d6", "#d9a400"),
    "done": ("#dcf5e3", "#2e9e55"),
    "skipped": ("#e8e8e8", "#b0b0b0"),
}
NODE_W, NODE_H, COL_GAP, ROW_GAP, MARGIN, HEADER = 200, 56, 70, 22, 20, 44


def _layout(milestones: list[dict]) -> dict[str, tuple[int, int]]:
    rows: dict[int, int] = {}
    where: dict[str, tuple[int, int]] = {}
    for m in sorted(milestones, key=lambda m: (m["depth"], m["position"])):
        row = rows.get(m["depth"], 0)
        rows[m["depth"]] = row + 1
        where[m["skill_id"]] = (MARGIN + m["depth"] * (NODE_W + COL_GAP),
                                HEADER + MARGIN + row * (NODE_H + ROW_GAP))
    return where


def _clip(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def render_svg(roadmap: dict) -> str:
    """``roadmap``: a version as the service returns it (milestones with percent and status)."""
    milestones = roadmap["milestones"]
    where = _layout(milestones)
    width = max([x for x, _ in where.values()], default=MARGIN) + NODE_W + MARGIN
    height = max([y for _, y in where.values()], default=HEADER) + NODE_H + MARGIN
    width = max(width, 480)
    title = f"{roadmap['target_role']} \u2014 version {roadmap['version']}"
    progress = roadmap.get("progress", {})
    subtitle = (f"{progress.get('percent', 0)}% done, {progress.get('schedule_status', 'on_track')}"
                f" ({progress.get('weeks_ahead', 0):+} weeks)")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f"<title>{escape(title)}</title>",
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8a94a6"/>'
           "</marker></defs>",
           f'<text x="{MARGIN}" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
           f'<text x="{MARGIN}" y="38" fill="#555">{escape(subtitle)}</text>']
    for m in milestones:
        x2, y2 = where[m["skill_id"]]
        for pre in m["prerequisites"]:
            x1, y1 = where[pre]
            out.append(f'<path d="M{x1 + NODE_W},{y1 + NODE_H // 2} C{x1 + NODE_W + COL_GAP // 2},'
                       f'{y1 + NODE_H // 2} {x2 - COL_GAP // 2},{y2 + NODE_H // 2} {x2},{y2 + NODE_H // 2}" '
                       f'fill="none" stroke="#8a94a6" marker-end="url(#arrow)"/>')
    for m in milestones:
        x, y = where[m["skill_id"]]
        status = m.get("status", "pending")
        fill, stroke = COLOURS.get(status, COLOURS["pending"])
        percent = int(m.get("percent", 0))
        label = f"{m['skill_name']} (L{m['level']})"
        out.append(f'<g class={quoteattr("milestone " + status)} data-skill={quoteattr(m["skill_id"])}>')
        out.append(f"<title>{escape(label)}: {escape(status)}, {percent}%</title>")
        out.append(f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="8" fill="{fill}" '
                   f'stroke="{stroke}" stroke-width="1.5"/>')
        bar = (NODE_W - 16) * percent // 100
        out.append(f'<rect x="{x + 8}" y="{y + NODE_H - 12}" width="{bar}" height="5" fill="{stroke}"/>')
        out.append(f'<text x="{x + 8}" y="{y + 18}" font-weight="bold">{escape(_clip(label))}</text>')
        hours = f"{m['planned_hours']} h" if not m["skipped"] else "already known"
        weeks = f", weeks {m['start_week']}\u2013{m['end_week']}" if m.get("start_week") else ""
        out.append(f'<text x="{x + 8}" y="{y + 34}" fill="#444">{escape(status)} \u00b7 {percent}% \u00b7 '
                   f"{escape(hours + weeks)}</text>")
        out.append("</g>")
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
