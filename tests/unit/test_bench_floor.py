"""bench/servers.py's ``floor-direct`` (docs/serving.md, "What 0.6 of the ceiling would
take"): its BOTW create, called without Flask, must do what crmsim's create does, or its
figure says nothing. Same requests to it and to crmsim's own app: same status, body and
journal entry, and the contact stored."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
KEY = "K1"
STATE = {
    "api_keys": {KEY: ["1"]},
    "contacts": [{"contact_id": 1, "listing_id": "1", "email": "seed@example.com"}],
}


@pytest.fixture(scope="module")
def servers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_servers", BENCH / "servers.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Scope:
    proto = "http"
    http_version = "1.1"
    client = "127.0.0.1:5555"
    query_string = ""

    def __init__(self, method: str, path: str, headers: dict[str, str]) -> None:
        self.method, self.path, self.headers = method, path, headers


class Proto:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.answer: tuple[int, list[tuple[str, str]], bytes] | None = None

    def __call__(self) -> Any:
        body = self.body

        class Read:
            def __await__(self) -> Any:
                return body
                yield  # a generator: awaitable

        return Read()

    def response_bytes(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.answer = (status, headers, data)


def serve(floor: Any, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
    proto = Proto(body)
    step = floor.__rsgi__(Scope(method, path, headers), proto)
    with pytest.raises(StopIteration):
        step.send(None)  # nothing in it waits: it runs to the end at once
    assert proto.answer is not None
    return proto.answer


def entry_fields(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "operation": entry["operation"],
        "vendor": entry["vendor"],
        "status": entry["response"]["status"],
        "request_body": entry["request"]["body"],
        "response_body": entry["response"]["body"],
        "violations": entry["violations"],
    }


# floor-direct draws ids as one process does; a shared world draws request n from stream n
@pytest.mark.one_process_store
@pytest.mark.parametrize(
    ("key", "body"),
    [
        (KEY, b"first_name=Ann&email=ann%40example.com"),  # created
        ("nope", b"email=bob%40example.com"),  # the key refused: 403
        (KEY, b"email=not-an-email&phone=1"),  # the contract says so; the vendor decides
    ],
)
def test_floor_direct_create_answers_and_journals_as_crmsim(
    servers: ModuleType, key: str, body: bytes
) -> None:
    from simulator import create_app

    floor = servers.Floor(direct=True)
    crmsim = create_app({"seed": 1}).test_client()
    headers = {
        "authorization": f"Bearer {key}",
        "content-type": "application/x-www-form-urlencoded",
        "content-length": str(len(body)),
    }
    # one frozen time for both: created_date is the clock's second, and a second may turn
    frozen = {"now": "2024-06-01T12:00:00Z"}
    assert floor.app.test_client().put("/__sim/clock", json=frozen).status_code == 200
    assert crmsim.put("/__sim/clock", json=frozen).status_code == 200
    state = json.dumps(STATE).encode()
    assert serve(floor, "PUT", "/__sim/state/botw", state, {})[0] == 200
    assert crmsim.put("/__sim/state/botw", json=STATE).status_code == 200

    status, answer_headers, data = serve(floor, "POST", "/crm/1", body, headers)
    expected = crmsim.post(
        "/crm/1",
        data=body,
        headers={"Authorization": f"Bearer {key}"},
        content_type="application/x-www-form-urlencoded",
    )
    assert (status, data) == (expected.status_code, expected.get_data())
    assert dict(answer_headers)["X-Sim-Violations"] == expected.headers["X-Sim-Violations"]

    client = floor.app.test_client()
    [found] = client.get("/__sim/journal").get_json()["entries"][-1:]
    [wanted] = crmsim.get("/__sim/journal").get_json()["entries"][-1:]
    assert entry_fields(found) == entry_fields(wanted)
    stored = client.get("/__sim/state/botw").get_json()["contacts"]
    assert len(stored) == (2 if status == 201 else 1)
    assert stored == crmsim.get("/__sim/state/botw").get_json()["contacts"]
