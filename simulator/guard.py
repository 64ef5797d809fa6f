"""The control plane's door: who may use ``/__sim`` (docs/control-plane.md, "Who may use the
control plane").

Every request under ``/__sim`` (and ``/__ns/{name}/__sim``) passes these checks, in this
order, before anything else happens (no namespace is created for a refused request):

1. **Host** (loopback binds without a token): a ``Host`` header that names anything but a
   loopback address or ``localhost`` is refused, 403. A web page that rebinds its own DNS
   name to 127.0.0.1 then cannot reach a crmsim on the tester's machine (DNS rebinding).
   With a token the page could not send it anyway, so a reverse proxy may pass any Host.
2. **Origin**: a request that carries an ``Origin`` other than the request's own (its host
   and port are not the ``Host``, nor a proxy's ``X-Forwarded-Host``) is refused, 403.
   Browsers send it on every cross-site write, so a page the tester opens cannot drive
   crmsim (CSRF). Clients that send no ``Origin``
   (curl, the Python client, the pytest plugin) pass.
3. **Token**: with a control token (``--control-token``, ``CRMSIM_CONTROL_TOKEN``), every
   request needs ``Authorization: Bearer <token>``, 401 otherwise, except ``GET
   /__sim/health`` (load balancers and Docker's HEALTHCHECK ask it without credentials) and
   the dashboard's page and assets (``/__sim/ui``: no data in them; the page asks for the
   token and sends it on every call).
4. **Content type**: a write (POST, PUT, PATCH, DELETE) that carries a ``Content-Type``
   needs a JSON one (``application/json`` or ``application/*+json``), and a write with a
   body needs one at all, 415 otherwise. A write without a body and without a content type
   (``curl -X POST .../__sim/reset``) passes. A browser can send a cross-site request with
   no preflight only as ``text/plain``, a form or multipart: all refused here.

Vendor routes pass none of these checks: they stay as open as the real vendors' (which
have their own keys, and crmsim checks those).
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
from urllib.parse import urlsplit

from flask import Flask, Request, request

from simulator.config import Config
from simulator.errors import Problem

CONTROL_PREFIX = "/__sim"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Open without the token: the health check and the dashboard's page and assets.
OPEN_PATHS = ("/__sim/health", "/__sim/ui")
LOCAL_NAMES = ("localhost", "localhost.")


@functools.lru_cache(maxsize=256)  # a request's Host and Origin: the same few every time
def is_loopback(host: str) -> bool:
    """Is ``host`` (an address or a name, maybe ``[::1]``) a loopback address?"""
    host = host.strip().strip("[]").lower()
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@functools.lru_cache(maxsize=256)
def _host_name(header: str) -> str:
    """The name of a ``Host`` header (``127.0.0.1:8080`` -> ``127.0.0.1``, ``[::1]:80`` ->
    ``::1``); ``""`` for one that cannot be read."""
    try:
        return urlsplit("//" + header).hostname or ""
    except ValueError:
        return ""


@functools.lru_cache(maxsize=256)
def _netloc(origin: str) -> str | None:
    try:
        return urlsplit(origin.strip()).netloc.lower() or None
    except ValueError:
        return None


def exposure(config: Config) -> str | None:
    """Why ``serve`` with ``config`` must not start (None: it may)."""
    if config.control_token or config.open_control_plane or is_loopback(config.host):
        return None
    return (
        f"refusing to serve the control plane on {config.host} without a control token: "
        "anyone who reaches the port could reset the state, load any state, add faults and "
        "read the journal (vendor keys and passwords in it). Either set a token "
        "(CRMSIM_CONTROL_TOKEN=... in the environment, or --control-token; clients then send "
        "'Authorization: Bearer <token>'), or accept an open control plane on purpose "
        "(--open-control-plane, CRMSIM_OPEN_CONTROL_PLANE=1)."
    )


def _refuse(status: int, title: str, detail: str) -> Problem:
    return Problem(status, title, detail)


def check(req: Request, config: Config) -> None:
    """Raise a ``Problem`` (403, 401 or 415) unless ``req`` may use the control plane."""
    environ = req.environ  # the headers read straight from it: ``req.headers`` costs more
    host = environ.get("HTTP_HOST", "")
    token = config.control_token
    # No Host at all (HTTP/1.0 probes) cannot be rebinding: a browser always sends one. With
    # a token, a rebound page cannot send it either, so a proxy may pass its own Host.
    if host and not token and is_loopback(config.host) and not is_loopback(_host_name(host)):
        raise _refuse(
            403,
            "Host not allowed",
            f"crmsim listens on loopback ({config.host}) without a control token; the Host "
            f"{host[:100]!r} is not a loopback name, so the control plane refuses it (DNS "
            "rebinding).",
        )
    origin = environ.get("HTTP_ORIGIN")
    # Host and port only (behind a TLS proxy the page is https, the request http); a proxy
    # may name the page's host in X-Forwarded-Host, which no page can set without a
    # preflight that this check refuses.
    forwarded = environ.get("HTTP_X_FORWARDED_HOST", "").split(",")[0].strip().lower()
    if origin is not None and (_netloc(origin) or "?") not in (host.lower(), forwarded):
        raise _refuse(
            403,
            "Origin not allowed",
            f"The control plane answers only its own pages; the Origin {origin[:100]!r} is "
            "another site's (cross-site requests are refused).",
        )
    if token and not _open(req):
        scheme, _, sent = req.headers.get("Authorization", "").partition(" ")
        good = scheme.lower() == "bearer" and hmac.compare_digest(
            sent.strip().encode(), token.encode()
        )
        if not good:
            problem = _refuse(
                401,
                "Control token required",
                "This crmsim's control plane needs 'Authorization: Bearer <token>' with its "
                "control token (CRMSIM_CONTROL_TOKEN)."
                + (" The token sent is not it." if sent.strip() else ""),
            )
            problem.headers["WWW-Authenticate"] = 'Bearer realm="crmsim control plane"'
            raise problem
    if req.method in WRITES:
        mimetype = req.mimetype
        json_type = mimetype == "application/json" or (
            mimetype.startswith("application/") and mimetype.endswith("+json")
        )
        has_body = bool(req.content_length) or "chunked" in req.headers.get("Transfer-Encoding", "")
        if (mimetype and not json_type) or (has_body and not mimetype):
            raise _refuse(
                415,
                "Unsupported Media Type",
                "Control-plane writes take JSON: send 'Content-Type: application/json' "
                f"(got {mimetype or 'none'}); a write without a body needs no content type.",
            )


def _open(req: Request) -> bool:
    path = req.path
    return req.method in ("GET", "HEAD") and (
        path == OPEN_PATHS[0] or path == OPEN_PATHS[1] or path.startswith(OPEN_PATHS[1] + "/")
    )


def install(app: Flask, config: Config) -> None:
    """Check every control-plane request first (register before any other hook)."""

    @app.before_request
    def guard_control_plane() -> None:
        req: Request = request._get_current_object()  # type: ignore[attr-defined]
        if req.path.startswith(CONTROL_PREFIX):
            check(req, config)
