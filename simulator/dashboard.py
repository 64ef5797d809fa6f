"""The dashboard at ``/__sim/ui``: one page and its assets, shipped in ``simulator/ui/``.

The page is plain HTML, CSS and JavaScript with no build step; it reads and changes the
namespace only through the control plane. Everything it loads comes from this package, and
its Content-Security-Policy forbids anything else, so it works offline.
"""

from __future__ import annotations

import mimetypes
from html import escape
from importlib import resources

from flask import Response, g, request

from simulator.errors import Problem

ASSETS = resources.files("simulator") / "ui"
# Only what the page needs, from this package and nowhere else.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


def _root() -> str:
    """Where the app is mounted, without the ``/__ns/{name}`` of this request."""
    root = request.script_root
    suffix = f"/__ns/{g.world.name}"
    if request.environ.get("crmsim.namespace") and root.endswith(suffix):
        root = root[: -len(suffix)]
    return root


def _page(body: bytes, content_type: str) -> Response:
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def ui_page() -> Response:
    """The dashboard: state, journal, outbox, faults and clock of a namespace (HTML)."""
    html = (ASSETS / "index.html").read_text(encoding="utf-8")
    root = _root()
    html = html.replace("__ROOT__", escape(root)).replace("__NAMESPACE__", escape(g.world.name))
    return _page(html.encode("utf-8"), "text/html; charset=utf-8")


def ui_asset(asset: str) -> Response:
    """A file the dashboard loads (script, style sheet)."""
    names = {item.name for item in ASSETS.iterdir() if item.is_file()}
    if asset not in names or asset == "index.html":
        raise Problem(404, "Not Found", f"The dashboard has no file {asset!r}.")
    content_type = mimetypes.guess_type(asset)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type.endswith("javascript"):
        content_type += "; charset=utf-8"
    return _page((ASSETS / asset).read_bytes(), content_type)
