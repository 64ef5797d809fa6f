"""Where a scenario runs: one namespace of an in-process app or of a running crmsim."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode


class TargetUnreachable(Exception):
    """``--target`` does not answer as a crmsim."""


@dataclass
class Answer:
    """A vendor's answer as a step sees it; ``dropped``: the connection gave none."""

    status: int | None
    headers: dict[str, str]
    body: Any
    dropped: bool = False


def _decode(data: bytes) -> Any:
    if not data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
    try:
        return json.loads(text)
    except ValueError:
        return text


class Transport(Protocol):
    """One namespace of a crmsim, in-process or over HTTP."""

    def send(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes | None,
    ) -> Answer: ...

    def control(self, method: str, path: str, doc: Any = None) -> tuple[int, Any]: ...


class InProcess:
    """A namespace of an in-process app, through Flask's test client."""

    def __init__(self, app: Any, namespace: str) -> None:
        self.client = app.test_client()
        self.prefix = f"/__ns/{namespace}"

    def send(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes | None,
    ) -> Answer:
        # a query written into the step's path joins the step's query (the test client
        # refuses a query in both places)
        path, _, inline = path.partition("?")
        try:
            r = self.client.open(
                self.prefix + path,
                method=method,
                query_string="&".join(q for q in (inline, urlencode(query)) if q),
                headers=headers,
                data=body,
            )
        except ConnectionError:  # a drop fault
            return Answer(None, {}, None, dropped=True)
        return Answer(r.status_code, dict(r.headers.items()), _decode(r.get_data()))

    def control(self, method: str, path: str, doc: Any = None) -> tuple[int, Any]:
        token = self.client.application.extensions["crmsim"].config.control_token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = self.client.open(
            self.prefix + "/__sim" + path, method=method, json=doc, headers=headers
        )
        return r.status_code, _decode(r.get_data())


class Remote:
    """A namespace of a running crmsim, over HTTP."""

    def __init__(self, session: Any, target: str, namespace: str, token: str | None = None) -> None:
        self.session = session
        self.base = target.rstrip("/") + f"/__ns/{namespace}"
        self.target = target
        self.control_headers = {"Authorization": f"Bearer {token}"} if token else {}

    def send(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes | None,
    ) -> Answer:
        import requests

        try:
            r = self.session.request(
                method, self.base + path, params=query, headers=headers, data=body, timeout=60
            )
        except requests.ConnectionError:
            return Answer(None, {}, None, dropped=True)
        return Answer(r.status_code, dict(r.headers.items()), _decode(r.content))

    def control(self, method: str, path: str, doc: Any = None) -> tuple[int, Any]:
        r = self.session.request(
            method, self.base + "/__sim" + path, json=doc, headers=self.control_headers, timeout=60
        )
        check_control_answer(r, self.target)
        return r.status_code, _decode(r.content)


def check_target(target: str) -> None:
    """Raise ``TargetUnreachable`` with one clear sentence unless ``target`` is a crmsim."""
    import requests

    url = target.rstrip("/") + "/__sim/health"
    try:
        r = requests.get(url, timeout=5)
    except requests.RequestException as exc:
        reason = type(exc).__name__.replace("Error", " error").strip()
        raise TargetUnreachable(
            f"crmsim is not reachable at {target} ({reason}); start one with `crmsim serve`"
            " or pass the right --target"
        ) from exc
    try:
        ok = r.status_code == 200 and r.json().get("status") in ("ok", "degraded")
    except ValueError:
        ok = False
    if not ok:
        raise TargetUnreachable(
            f"{target} answered GET /__sim/health with {r.status_code}: it is not a crmsim"
        )


def check_control_answer(r: Any, target: str) -> None:
    """Raise ``TargetUnreachable`` when ``target``'s control plane refused the token (401)."""
    if r.status_code == 401:
        raise TargetUnreachable(
            f"{target} wants a control token: pass --control-token or set CRMSIM_CONTROL_TOKEN"
            + (" (the one sent is not it)" if "Authorization" in r.request.headers else "")
        )
