"""Serve the web client beside the API in one WSGI app (what `make run` does)."""
from __future__ import annotations

from typing import Any, Callable

API_PATHS = ("/api/", "/xapi/", "/healthz", "/readyz", "/metrics")


def serve_beside(api_app: Any, web_app: Any, api_paths: tuple[str, ...] = API_PATHS) -> None:
    """Route ``api_paths`` to ``api_app``'s own WSGI callable and everything else to ``web_app``.

    ``api_app`` stays the object gunicorn loads; only its ``wsgi_app`` is wrapped.
    """
    api_wsgi: Callable = api_app.wsgi_app

    def dispatch(environ: dict, start_response: Callable):
        path = environ.get("PATH_INFO", "") or "/"
        if path.startswith(api_paths) or path in ("/api", "/xapi"):
            return api_wsgi(environ, start_response)
        return web_app(environ, start_response)

    api_app.wsgi_app = dispatch
