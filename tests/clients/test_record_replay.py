"""A session recorded from real clients replays green (issue 12's client suite found the
gap: a chunked or ``Expect: 100-continue`` client's framing headers were recorded into the
steps, and the replay's own body then could not be read)."""

import json
import shutil
import uuid

import pytest
import requests
import yaml
from client_stacks import STACKS, Req

from simulator.replay import record, replay

KEY = {"api_keys": {"K": ["1"]}}


@pytest.mark.parametrize("stack", STACKS, ids=lambda s: s.name)
@pytest.mark.parametrize("quirk", ["chunked", "expect"])
def test_a_session_of_a_framing_client_replays_green(served, tmp_path, stack, quirk):
    if stack.name == "curl" and shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    namespace = "rec-" + uuid.uuid4().hex[:12]
    base = f"{served}/__ns/{namespace}"
    try:
        assert requests.put(f"{base}/__sim/state/botw", json=KEY, timeout=10).ok
        start = tmp_path / "start.json"
        start.write_text(requests.get(f"{base}/__sim/state", timeout=10).text)
        form = {"email": "ann@example.com", "first_name": "Ann"}
        answer = stack.send(Req("POST", f"{base}/crm/1", form=form, bearer="K"), quirk)
        assert answer.status == 201
        answer = stack.send(
            Req("PUT", f"{base}/crm/1", form={"id": "1", "last_name": "Lee"}, bearer="K"), quirk
        )
        assert answer.status == 200
        out = tmp_path / "session.yaml"
        assert record(served, namespace, str(start), str(out), "clients") == 0
        doc = yaml.safe_load(out.read_text())
        for step in doc["steps"]:
            names = {h.lower() for h in step.get("headers", {})}
            assert not names & {"transfer-encoding", "expect"}, step["headers"]
        lines = []
        assert replay([str(out)], echo=lines.append) == 0, "\n".join(lines)
        assert replay([str(out)], target=served, echo=lines.append) == 0, "\n".join(lines)
        contacts = requests.get(f"{base}/__sim/state/botw", timeout=10).json()["contacts"]
        assert [(c["email"], c["last_name"]) for c in contacts] == [("ann@example.com", "Lee")]
        assert json.loads(start.read_text())["botw"]["api_keys"] == KEY["api_keys"]
    finally:
        requests.delete(f"{base}/__sim", timeout=10)
