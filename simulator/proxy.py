"""``crmsim proxy``: forward vendor requests to the real vendor and record them as a scenario.

Each request for a vendor's paths goes to that vendor's real base URL (``--vendor
botw=https://sandbox.example``) with ``requests``; its answer comes back unchanged (status,
headers less the hop-by-hop ones, body). Every exchange is kept in the shape of a journal
entry (``simulator.journal.render``) and the whole session is written again after each one
as a scenario by ``crmsim record``'s normaliser (``simulator.recording``): generated ids,
tokens and times become patterns and ``$save``s.

Secrets are redacted before anything is written (docs/drift.md): a request header, query
parameter or body field named in the redact list (or a body field at a JSON pointer in it)
becomes ``${<vendor>_<name>}``, a scenario ``vars`` entry with no default, which a run takes
from ``CRMSIM_VAR_<VENDOR>_<NAME>``; ``Authorization: Bearer X`` keeps its scheme. The same
value anywhere else (an answer that echoes it, a path) becomes the same reference. A request
value an earlier answer handed out (a session token) is left to the normaliser, which saves
it; an answer's field named in the list is matched by pattern and never written literally.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

from simulator.journal import Raw, render
from simulator.recording import scenario_from_journal
from simulator.scenarios import dump_yaml

# What --redact adds to unless --no-default-redact: names compared case-insensitively with
# request header names, query parameter names and body field names at any depth.
DEFAULT_REDACT = (
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
    "key",
    "api_key",
    "apikey",
    "web_api_key",
    "password",
    "passwd",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "refresh_token",
)
# Hop-by-hop headers (RFC 9110 7.6.1) and those the forwarding itself sets.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length"}
# ``requests`` decodes a compressed body; the answer goes back decoded, so without these
NOT_RETURNED = HOP_BY_HOP | {"content-encoding", "content-length"}
SCHEME = re.compile(r"^(Bearer|Basic|Token|ApiKey|Digest)\s+(\S.*)$", re.IGNORECASE)
MIN_SECRET = 4  # shorter values are not searched for elsewhere (too many false hits)


def parse_vendors(items: Iterable[str]) -> dict[str, str]:
    """``botw=https://sandbox.example`` items as vendor -> base URL (no trailing slash)."""
    from simulator.vendors import VENDORS

    found: dict[str, str] = {}
    for item in items:
        vendor, _, url = item.partition("=")
        vendor, url = vendor.strip(), url.strip().rstrip("/")
        if vendor not in VENDORS:
            raise ValueError(f"{item}: {vendor or '(none)'} is not a vendor ({', '.join(VENDORS)})")
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise ValueError(f"{item}: write VENDOR=http(s)://HOST[:PORT][/BASE]")
        if vendor in found:
            raise ValueError(f"{vendor} is given twice")
        found[vendor] = url
    return found


class Redactor:
    """Replaces secrets in journal-shaped entries with ``${var}`` references (see above)."""

    def __init__(self, names: Iterable[str] = DEFAULT_REDACT) -> None:
        items = [n.strip() for n in names if n.strip()]
        self.pointers = [n for n in items if n.startswith("/")]
        self.names = {n.lower() for n in items if not n.startswith("/")}
        self.vars: dict[str, str] = {}  # secret value -> var name
        self._handed_out: list[str] = []  # text of the answers so far

    def named(self, name: str) -> bool:
        return name.lower() in self.names

    def _var(self, value: str, vendor: str, name: str) -> str:
        found = self.vars.get(value)
        if found is None:
            base = re.sub(r"[^A-Za-z0-9_]", "_", f"{vendor}_{name}").strip("_").lower()
            found, n = base, 1
            while found in self.vars.values():
                n += 1
                found = f"{base}_{n}"
            self.vars[value] = found
        return found

    def _secret(self, value: Any, vendor: str, name: str) -> Any:
        if not isinstance(value, str) or not value:
            return value
        scheme = SCHEME.match(value)
        credential = scheme.group(2) if scheme else value
        if any(credential in text for text in self._handed_out):
            return value  # a session value an answer gave: the normaliser saves it
        if scheme:
            return f"{scheme.group(1)} {marker(self._var(credential, vendor, name))}"
        return marker(self._var(value, vendor, name))

    def entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        """The entry with its request's secrets as markers, then every known secret value
        anywhere in it (an echo in the answer) too; remembers the answer's text."""
        vendor = entry.get("vendor") or "vendor"
        request = entry["request"]
        for part in ("headers", "query"):
            values = request.get(part) or {}
            for k, v in values.items():
                if self.named(k):
                    values[k] = (
                        [self._secret(x, vendor, k) for x in v]
                        if isinstance(v, list)
                        else self._secret(v, vendor, k)
                    )
        request["body"] = self._body(request.get("body"), vendor)
        out: dict[str, Any] = self._values(entry)
        self._handed_out.append(json.dumps(entry["response"].get("body"), ensure_ascii=False))
        return out

    def _body(self, body: Any, vendor: str) -> Any:
        for ptr in self.pointers:
            parts = [p.replace("~1", "/").replace("~0", "~") for p in ptr.split("/")[1:]]
            node = body
            for part in parts[:-1]:
                node = _child(node, part)
            last = parts[-1] if parts else ""
            if isinstance(node, dict) and last in node:
                node[last] = self._secret(node[last], vendor, last)
            elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
                node[int(last)] = self._secret(node[int(last)], vendor, parts[-2:][0])

        def walk(node: Any) -> Any:
            if isinstance(node, dict):
                return {
                    k: self._secret(v, vendor, k)
                    if self.named(str(k)) and isinstance(v, str)
                    else walk(v)
                    for k, v in node.items()
                }
            if isinstance(node, list):
                return [walk(v) for v in node]
            return node

        return walk(body)

    def _values(self, node: Any) -> Any:
        if isinstance(node, str):
            for value, name in self.vars.items():
                if len(value) >= MIN_SECRET and value in node:
                    node = node.replace(value, marker(name))
            return node
        if isinstance(node, dict):
            return {k: self._values(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self._values(v) for v in node]
        return node

    def opaque(self, key: str, value: str) -> bool:
        """An answer's field named in the list: matched by pattern, never literally."""
        return self.named(key)


MARK = re.compile(r"\u27e6redacted:([A-Za-z0-9_]+)\u27e7")


def marker(name: str) -> str:
    """A redacted value's stand-in until the scenario is written (then ``${name}``)."""
    return f"\u27e6redacted:{name}\u27e7"


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return None


def unmark(node: Any) -> Any:
    """Markers as ``${name}`` references (the scenario's ``vars``)."""
    if isinstance(node, str):
        return MARK.sub(lambda m: "${" + m.group(1) + "}", node)
    if isinstance(node, dict):
        return {k: unmark(v) for k, v in node.items()}
    if isinstance(node, list):
        return [unmark(v) for v in node]
    return node


class Recording:
    """The session so far, written to ``output`` as a scenario after every exchange."""

    def __init__(self, output: Path, redactor: Redactor, name: str = "Recorded by proxy") -> None:
        self.output = output
        self.redactor = redactor
        self.name = name
        self.entries: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.entries.append(self.redactor.entry(entry))
            self.write()

    def document(self) -> dict[str, Any]:
        doc = scenario_from_journal(self.entries, {}, self.name, opaque=self.redactor.opaque)
        doc["description"] = (
            f"Recorded by crmsim proxy from {len(self.entries)} exchange(s) with the real "
            "vendor; generated ids and times are matched by pattern, secrets are vars "
            "(CRMSIM_VAR_<NAME>, docs/drift.md)."
        )
        doc = unmark(doc)
        names = sorted(set(self.redactor.vars.values()))
        if names:
            out: dict[str, Any] = {}
            for key, value in doc.items():
                if key == "given":
                    out["vars"] = {n: None for n in names}
                out[key] = value
            doc = out
        return doc

    def write(self) -> None:
        tmp = self.output.with_name(self.output.name + ".tmp")
        tmp.write_text(dump_yaml(self.document()), encoding="utf-8")
        os.replace(tmp, self.output)


def _error(status: int, detail: str) -> Response:
    body = {"type": "about:blank", "title": "crmsim proxy", "status": status, "detail": detail}
    return Response(json.dumps(body), status, mimetype="application/problem+json")


class Proxy:
    """The WSGI app: vendor paths forwarded and recorded, anything else 404."""

    def __init__(
        self,
        vendors: Mapping[str, str],
        recording: Recording | None,
        session: Any = None,
        timeout: float = 60.0,
    ) -> None:
        import requests

        from simulator.app import create_app

        self.urls = dict(vendors)
        self.recording = recording
        self.session = session or requests.Session()
        self.timeout = timeout
        self.app = create_app()  # its vendors' base paths and routes name the operations
        self.sim = self.app.extensions["crmsim"]

    def operation(self, method: str, path: str) -> str | None:
        from werkzeug.exceptions import HTTPException
        from werkzeug.routing import RequestRedirect

        try:
            endpoint, _ = self.app.url_map.bind("localhost").match(path, method)
        except (HTTPException, RequestRedirect):
            return None
        return str(endpoint) if "." in str(endpoint) else None

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, req: Request) -> Response:
        import requests

        vendor = self.sim.vendor_for(req.path)
        if vendor is None or vendor.slug not in self.urls:
            served = ", ".join(f"{v} (→ {u})" for v, u in self.urls.items())
            return _error(404, f"no --vendor serves {req.path}; proxied: {served}")
        data = req.get_data()
        headers = {k: v for k, v in req.headers.items() if k.lower() not in NOT_FORWARDED}
        url = self.urls[vendor.slug] + req.path
        query = req.query_string.decode("latin-1")
        try:
            r = self.session.request(
                req.method,
                url + ("?" + query if query else ""),
                headers=headers,
                data=data or None,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            return _error(502, f"{vendor.slug} at {self.urls[vendor.slug]} did not answer: {exc}")
        answer = [(k, v) for k, v in r.headers.items() if k.lower() not in NOT_RETURNED]
        response = Response(r.content, status=r.status_code, headers=answer)
        if self.recording is not None:
            mimetype = (r.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            entry = {
                "vendor": vendor.slug,
                "operation": self.operation(req.method, req.path),
                "request": {
                    "method": req.method,
                    "path": req.path,
                    "raw": Raw(list(req.headers.items()), data, req.mimetype, query),
                },
                "response": {
                    "status": r.status_code,
                    "raw": Raw(list(r.headers.items()), r.content, mimetype or None),
                },
            }
            self.recording.add(render(entry))
        return response


def make_server(proxy: Proxy, host: str, port: int) -> Any:
    """A threaded werkzeug server of ``proxy`` (``serve_forever()``, ``shutdown()``) that
    adds no ``Server`` or ``Date`` header of its own: the vendor's come back unchanged."""
    from werkzeug.serving import WSGIRequestHandler
    from werkzeug.serving import make_server as make

    class Handler(WSGIRequestHandler):
        def send_response(self, code: int, message: str | None = None) -> None:
            self.log_request(code)
            self.send_response_only(code, message)

    return make(host, port, proxy, threaded=True, request_handler=Handler)
