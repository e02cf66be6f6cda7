"""Template helpers: safe Markdown, dates, money, form field errors."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from markdown_it import MarkdownIt
from markupsafe import Markup

from web import bff

# html=False: raw HTML in a lesson is shown as text, never run; links are limited to safe schemes
# by markdown-it's own validateLink (no javascript:, vbscript:, file:, data: except images).
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def markdown(text: str) -> Markup:
    return Markup(_markdown.render(text or ""))


def when(value: Any, fmt: str = "%d %b %Y") -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).strftime(fmt)
    except ValueError:
        return str(value)


def money(minor: Any, currency: str = "EUR") -> str:
    try:
        amount = int(minor) / 100
    except (TypeError, ValueError):
        return ""
    symbol = {"EUR": "€", "USD": "$", "GBP": "£"}.get(str(currency).upper(), str(currency).upper() + " ")
    return f"{symbol}{amount:,.2f}"


def install(app: Flask) -> None:
    app.jinja_env.filters.update(markdown=markdown, when=when, money=money, pairs=lambda xs: [(x, x) for x in xs],
                               options=lambda rows, v, l: [(r[v], r[l] or r[v]) for r in rows])
    app.jinja_env.globals.update(signed_in=bff.signed_in, me=bff.me)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
