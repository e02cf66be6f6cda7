"""Text widths for the roadmap picture, without a font engine at run time.

Advance widths of DejaVu Sans and DejaVu Sans Bold (the fonts the SVG names first;
Debian's default sans-serif, what rsvg and browsers on Linux use), read once from the
font files with fontTools and kept here in font units (2048 per em). A character not
listed counts as one full em, wider than any listed glyph, so a measured label is
never narrower than the drawn one. tests/roadmap/test_svg.py checks the table against
the fonts through Pillow's text layout.
"""
from __future__ import annotations

UNITS_PER_EM = 2048
_CHARS = (" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
          "\u2013\u2014\u00b7\u2026\u25b8\u2022")
_REGULAR = (651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690, 1303, 1303,
            1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 690, 690, 1716, 1716, 1716, 1087, 2048, 1401, 1405,
            1430, 1577, 1294, 1178, 1587, 1540, 604, 604, 1343, 1141, 1767, 1532, 1612, 1235, 1612, 1423, 1300,
            1251, 1499, 1401, 2025, 1403, 1251, 1403, 799, 690, 799, 1716, 1024, 1024, 1255, 1300, 1126, 1300,
            1260, 721, 1300, 1298, 569, 569, 1186, 569, 1995, 1298, 1253, 1300, 1300, 842, 1067, 803, 1298,
            1212, 1675, 1212, 1212, 1075, 1303, 690, 1303, 1716, 1024, 2048, 651, 2048, 1028, 1208)
_BOLD = (713, 934, 1067, 1716, 1425, 2052, 1786, 627, 936, 936, 1071, 1716, 778, 850, 778, 748, 1425, 1425, 1425,
         1425, 1425, 1425, 1425, 1425, 1425, 1425, 819, 819, 1716, 1716, 1716, 1188, 2048, 1585, 1561, 1503, 1700,
         1399, 1399, 1681, 1714, 762, 762, 1587, 1305, 2038, 1714, 1741, 1501, 1741, 1577, 1475, 1397, 1663,
         1585, 2259, 1579, 1483, 1485, 936, 748, 936, 1716, 1024, 1024, 1382, 1466, 1214, 1466, 1389, 891, 1466,
         1458, 702, 702, 1362, 702, 2134, 1458, 1407, 1466, 1466, 1010, 1219, 979, 1458, 1335, 1892, 1321, 1335,
         1192, 1458, 748, 1458, 1716, 1024, 2048, 778, 2048, 1028, 1309)
_WIDTHS = {False: dict(zip(_CHARS, _REGULAR)), True: dict(zip(_CHARS, _BOLD))}
UNKNOWN = 2300  # wider than every listed glyph (the widest, bold W, is 2259)
FONT_FAMILY = "DejaVu Sans, Verdana, sans-serif"


def width(text: str, size: float, bold: bool = False) -> float:
    """The advance width of ``text`` in pixels at font size ``size``."""
    table = _WIDTHS[bold]
    return sum(table.get(ch, UNKNOWN) for ch in text) * size / UNITS_PER_EM


def wrap(text: str, max_width: float, size: float, bold: bool = False, max_lines: int = 3) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``max_width``; a word longer than a line is
    cut, and text beyond ``max_lines`` ends the last line with an ellipsis."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if width(candidate, size, bold) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while width(word, size, bold) > max_width:  # one word wider than the box: cut it
            cut = _fit(word, max_width, size, bold, suffix="")
            lines.append(cut)
            word = word[len(cut):]
        current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _fit(lines[-1] + "\u2026", max_width, size, bold, suffix="\u2026")
    return lines or [""]


def _fit(text: str, max_width: float, size: float, bold: bool, suffix: str) -> str:
    """The longest prefix of ``text`` (plus ``suffix``) that fits; at least one character."""
    body = text[:-len(suffix)] if suffix and text.endswith(suffix) else text
    while len(body) > 1 and width(body + suffix, size, bold) > max_width:
        body = body[:-1]
    return body.rstrip() + suffix
