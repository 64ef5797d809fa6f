"""HTTP client stacks as real integrations use them, each in its own default encodings.

Every stack sends the same abstract request (``Req``) its own way: ``requests`` and
``httpx`` with their ``json=``/``data=``/``params=``/``auth=`` helpers, ``urllib`` with
``urlencode`` and bytes (and urllib's default form content type on JSON it is not told
about), ``curl`` through a subprocess with ``--json``, ``-d``, ``-F``, ``-G`` and ``-u``.
A quirk adds what some client stacks do on top:

* ``chunked``: the body as ``Transfer-Encoding: chunked`` (a generator or iterator body; curl
  with the header set);
* ``expect``: ``Expect: 100-continue`` before the body (curl waits for the 100);
* ``charset``: a ``charset`` parameter on the content type (Spring's
  ``application/json;charset=UTF-8``, ``…x-www-form-urlencoded; charset=utf-8``);
* ``case``: header names and auth schemes in odd case (``content-type``, ``AUTHORIZATION:
  bearer …``, ``basic``).
"""

from __future__ import annotations

import base64
import json
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests

QUIRKS = ("plain", "chunked", "expect", "charset", "case")
TIMEOUT = 10


@dataclass
class Req:
    method: str
    url: str
    json: Any = None  # a JSON document
    form: dict[str, str] | None = None  # url-encoded fields
    multipart: dict[str, str] | None = None  # multipart fields (where a stack would)
    params: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    bearer: str | None = None
    basic_user: str | None = None  # HTTP Basic with an empty password
    raw: bytes | None = None  # a body as given, no content type of its own
    content_type: str | None = None  # overrides the stack's own for json/raw


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


def _chunks(data: bytes):
    for i in range(0, len(data), 7):
        yield data[i : i + 7]


def _quirk_headers(req: Req, quirk: str, content_type: str | None) -> dict[str, str]:
    """Headers the quirk adds or rewrites, content type and auth included."""
    headers = dict(req.headers)
    if content_type is not None:
        if quirk == "charset" and "charset" not in content_type:
            content_type += ";charset=UTF-8" if "json" in content_type else "; charset=utf-8"
        headers["Content-Type"] = content_type
    if req.bearer is not None:
        headers["Authorization"] = f"Bearer {req.bearer}"
    if req.basic_user is not None:
        token = base64.b64encode(f"{req.basic_user}:".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    if quirk == "expect" and _has_body(req):
        headers["Expect"] = "100-continue"
    if quirk == "case":
        odd = {}
        for name, value in headers.items():
            if name == "Authorization":
                scheme, _, rest = value.partition(" ")
                odd["AUTHORIZATION"] = f"{scheme.lower()} {rest}"
            else:
                odd[name.lower()] = value
        headers = odd
    return headers


def _has_body(req: Req) -> bool:
    return any(x is not None for x in (req.json, req.form, req.multipart, req.raw))


def _body(req: Req) -> tuple[bytes | None, str | None]:
    """The body bytes and content type a careful hand-written client would send."""
    if req.json is not None:
        return json.dumps(req.json).encode(), req.content_type or "application/json"
    if req.form is not None:
        return urllib.parse.urlencode(req.form).encode(), "application/x-www-form-urlencoded"
    if req.raw is not None:
        return req.raw, req.content_type
    return None, None


def _url(req: Req) -> str:
    if not req.params:
        return req.url
    return req.url + "?" + urllib.parse.urlencode(req.params)


class RequestsStack:
    name = "requests"

    def send(self, req: Req, quirk: str) -> Answer:
        kwargs: dict[str, Any] = {"params": req.params, "timeout": TIMEOUT}
        content_type = None
        if req.multipart is not None:  # requests' own multipart encoder
            kwargs["files"] = {k: (None, v) for k, v in req.multipart.items()}
        elif quirk in ("chunked", "charset", "case") or req.raw is not None:
            data, content_type = _body(req)
            if data is not None:
                kwargs["data"] = _chunks(data) if quirk == "chunked" else data
        elif req.json is not None and req.content_type is None:
            kwargs["json"] = req.json
        elif req.form is not None:
            kwargs["data"] = req.form
        else:
            kwargs["data"], content_type = _body(req)
        if req.basic_user is not None and quirk not in ("case",):
            kwargs["auth"] = (req.basic_user, "")
            req = Req(**{**req.__dict__, "basic_user": None})
        kwargs["headers"] = _quirk_headers(req, quirk, content_type)
        r = requests.request(req.method, req.url, **kwargs)
        return Answer(r.status_code, r.content, dict(r.headers))


class HttpxStack:
    name = "httpx"

    def send(self, req: Req, quirk: str) -> Answer:
        kwargs: dict[str, Any] = {"params": req.params, "timeout": TIMEOUT}
        content_type = None
        if req.multipart is not None:
            kwargs["files"] = {k: (None, v) for k, v in req.multipart.items()}
        elif quirk in ("chunked", "charset", "case") or req.raw is not None:
            data, content_type = _body(req)
            if data is not None:
                kwargs["content"] = _chunks(data) if quirk == "chunked" else data
        elif req.json is not None and req.content_type is None:
            kwargs["json"] = req.json
        elif req.form is not None:
            kwargs["data"] = req.form
        else:
            kwargs["content"], content_type = _body(req)
        if req.basic_user is not None and quirk != "case":
            kwargs["auth"] = (req.basic_user, "")
            req = Req(**{**req.__dict__, "basic_user": None})
        kwargs["headers"] = _quirk_headers(req, quirk, content_type)
        r = httpx.request(req.method, req.url, **kwargs)
        return Answer(r.status_code, r.content, dict(r.headers))


class UrllibStack:
    name = "urllib"

    def send(self, req: Req, quirk: str) -> Answer:
        if req.multipart is not None:  # urllib has no multipart: a form, as such code does
            req = Req(**{**req.__dict__, "form": req.multipart, "multipart": None})
        data, content_type = _body(req)
        if req.json is not None and req.content_type is None and quirk == "plain":
            # a client that forgot the content type: urllib labels any POST data as a form
            content_type = None
        headers = _quirk_headers(req, quirk, content_type)
        body: Any = data
        if data is not None and quirk == "chunked":
            body = _chunks(data)  # urllib sends an iterable without a length chunked
        request = urllib.request.Request(_url(req), data=body, headers=headers, method=req.method)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as r:
                return Answer(r.status, r.read(), dict(r.headers))
        except urllib.error.HTTPError as exc:
            with exc:
                return Answer(exc.code, exc.read(), dict(exc.headers))


class CurlStack:
    name = "curl"

    def send(self, req: Req, quirk: str) -> Answer:
        args = ["curl", "-sS", "-X", req.method, "--max-time", str(TIMEOUT)]
        args += ["-D", "-", "-o", "-"]  # headers, then the body, on stdout
        stdin = None
        content_type = None
        if req.multipart is not None:
            for k, v in req.multipart.items():
                args += ["-F", f"{k}={v}"]
        elif req.json is not None and req.content_type is None and quirk == "plain":
            args += ["--json", "@-"]  # curl's own: application/json and an Accept
            stdin = json.dumps(req.json).encode()
        elif req.form is not None and quirk == "plain":
            for k, v in req.form.items():
                args += ["--data-urlencode", f"{k}={v}"]
        else:
            stdin, content_type = _body(req)
            if stdin is not None:
                args += ["--data-binary", "@-"]
                if content_type is None:
                    content_type = ""  # curl would say x-www-form-urlencoded: say nothing
        if req.basic_user is not None and quirk != "case":
            args += ["-u", f"{req.basic_user}:"]
            req = Req(**{**req.__dict__, "basic_user": None})
        headers = _quirk_headers(req, quirk, content_type or None)
        if content_type == "":
            headers["Content-Type"] = ""  # "-H 'Content-Type:'" removes curl's default
        if quirk == "chunked" and stdin is not None:
            headers["Transfer-Encoding"] = "chunked"
        for name, value in headers.items():
            args += ["-H", f"{name}:" if value == "" else f"{name}: {value}"]
        if req.params and req.method == "GET":
            args += ["-G"] + [
                x for k, v in req.params.items() for x in ("--data-urlencode", f"{k}={v}")
            ]
            args.append(req.url)
        else:
            args.append(_url(req))
        done = subprocess.run(args, input=stdin, capture_output=True, timeout=TIMEOUT + 5)
        assert done.returncode == 0, done.stderr.decode()
        head, _, body = done.stdout.partition(b"\r\n\r\n")
        while head.startswith(b"HTTP/1.1 100"):  # the interim answer to Expect
            head, _, body = body.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        found = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        return Answer(status, body, found)


STACKS = (RequestsStack(), HttpxStack(), UrllibStack(), CurlStack())
