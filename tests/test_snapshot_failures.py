"""A snapshot that fails is loud, and one namespace's bad data never stops the others being
saved (issue 13, "Nothing accepted is lost")."""

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from _serve import free_port
from helpers import wait_until
from test_persistence import Served

from simulator import CONTROL_API_VERSION, create_app
from simulator.persist import Persister, SnapshotRefused, precheck, read

KEY = {"Authorization": "Bearer KEY"}
BOTW = {"api_keys": {"KEY": ["1"]}}


def _setup(tmp_path, path=None):
    app = create_app({"seed": 3})
    sim = app.extensions["crmsim"]
    saver = Persister(sim.namespaces, sim.schemas, path or tmp_path / "data.json")
    saver.load()
    sim.persister = saver  # as serve does: health reports its problems
    return app, saver


def _contact(client, ns, email):
    r = client.post(f"/__ns/{ns}/crm/1", data={"email": email}, headers=KEY)
    assert r.status_code == 201, r.get_json()


def _emails(path, ns):
    doc = read(path)
    return {c["email"] for c in doc["namespaces"][ns]["state"]["botw"]["contacts"]}


def _spoil(app, ns):
    """Make a namespace unencodable (a lone surrogate that got in through a bug)."""
    world = app.extensions["crmsim"].namespaces.find(ns)
    good = world.dump_state
    # the bad value moves with each change: the log still says it once (same cause)
    world.dump_state = lambda vendor=None: {
        **good(),
        "botw": {"x": "bad" * world.changes + "\ud800"},
    }
    return lambda: delattr(world, "dump_state")


def test_one_namespaces_bad_data_never_stops_the_others_being_saved(tmp_path, caplog):
    path = tmp_path / "data.json"
    app, saver = _setup(tmp_path, path)
    client = app.test_client()
    for ns in ("good", "bad"):
        client.put(f"/__ns/{ns}/__sim/state/botw", json=BOTW)
        _contact(client, ns, f"first@{ns}.example")
    assert saver.save() is True and saver.problem is None
    assert client.get("/__sim/health").get_json()["status"] == "ok"

    repair = _spoil(app, "bad")
    _contact(client, "good", "second@good.example")
    _contact(client, "bad", "second@bad.example")
    with caplog.at_level(logging.ERROR, logger="crmsim.persist"):
        assert saver.save() is True  # written, without the namespace that failed
        _contact(client, "good", "third@good.example")
        client.put("/__ns/bad/__sim/seed", json={"seed": 5})
        assert saver.save() is True
    # the good namespace is saved every time; the bad one keeps its last good snapshot
    assert _emails(path, "good") == {f"{n}@good.example" for n in ("first", "second", "third")}
    assert _emails(path, "bad") == {"first@bad.example"}
    assert "'bad'" in saver.problem and "UnicodeEncodeError" in saver.problem
    health = client.get("/__sim/health").get_json()
    assert health["status"] == "degraded"
    assert health["reason"] == saver.problem
    assert health["since"].endswith("Z")
    # the log says it once for this cause, not once per snapshot
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "'bad'" in errors[0].getMessage()

    repair()
    _contact(client, "bad", "third@bad.example")
    assert saver.save() is True
    assert saver.problem is None
    assert client.get("/__sim/health").get_json() == {
        "status": "ok",
        "version": app.extensions["crmsim"].version,
        "control_api": CONTROL_API_VERSION,
        "vendors": app.extensions["crmsim"].vendor_paths,
    }
    assert _emails(path, "bad") == {f"{n}@bad.example" for n in ("first", "second", "third")}


def test_a_namespace_that_fails_before_its_first_snapshot_is_left_out(tmp_path):
    path = tmp_path / "data.json"
    app, saver = _setup(tmp_path, path)
    client = app.test_client()
    client.put("/__ns/fresh/__sim/state/botw", json=BOTW)
    client.put("/__ns/other/__sim/state/botw", json=BOTW)
    _spoil(app, "fresh")
    assert saver.save() is True
    doc = read(path)
    assert set(doc["namespaces"]) == {"other"}
    assert "'fresh'" in saver.problem


def test_a_write_that_fails_is_degraded_until_a_write_works(tmp_path, caplog):
    folder = tmp_path / "sub"
    folder.mkdir()
    app, saver = _setup(tmp_path, folder / "data.json")
    client = app.test_client()
    client.put("/__sim/state/botw", json=BOTW)
    shutil.rmtree(folder)
    with caplog.at_level(logging.ERROR, logger="crmsim.persist"):
        assert saver.save() is False
        assert saver.save() is False  # retried (nothing was written), logged once
    assert "writing the snapshot" in saver.problem and "No such file" in saver.problem
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    assert client.get("/__sim/health").get_json()["status"] == "degraded"
    folder.mkdir()
    assert saver.save() is True
    assert client.get("/__sim/health").get_json()["status"] == "ok"
    assert read(folder / "data.json")["namespaces"]["default"]["state"]["botw"]["api_keys"]


UNWRITABLE = "/sys"  # refuses new files even to root (a permission check alone passes root)


@pytest.mark.skipif(sys.platform != "linux", reason="needs Linux's /sys")
def test_the_start_check_writes_a_file_beside_the_target(tmp_path):
    with pytest.raises(SnapshotRefused, match="a file cannot be written in its directory /sys"):
        precheck(Path(UNWRITABLE) / "crmsim.json")
    precheck(tmp_path / "data.json")
    assert list(tmp_path.iterdir()) == []  # the probe is gone


@pytest.mark.skipif(sys.platform != "linux", reason="needs Linux's /sys")
def test_serve_refuses_an_unwritable_data_directory(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "simulator", "serve", "--port", str(free_port())]
        + ["--data", f"{UNWRITABLE}/crmsim.json"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "refusing to start with --data /sys/crmsim.json" in proc.stderr
    assert "a file cannot be written in its directory /sys" in proc.stderr
    assert "serving on" not in proc.stderr


def test_served_health_is_degraded_while_snapshots_fail(tmp_path):
    folder = tmp_path / "sub"
    folder.mkdir()
    with Served(folder / "data.json", interval="0.1") as server:
        requests.put(server.base + "/__sim/state/botw", json=BOTW, timeout=5).raise_for_status()
        wait_until(lambda: (folder / "data.json").exists(), what="the first snapshot")
        shutil.rmtree(folder)
        requests.put(server.base + "/__sim/seed", json={"seed": 9}, timeout=5)
        health = wait_until(
            lambda: (
                (h := requests.get(server.base + "/__sim/health", timeout=5).json())["status"]
                == "degraded"
                and h
            ),
            what="health degraded",
        )
        assert "No such file or directory" in health["reason"]
        folder.mkdir()
        wait_until(
            lambda: requests.get(server.base + "/__sim/health", timeout=5).json()["status"] == "ok",
            what="health ok again",
        )
        assert read(folder / "data.json")["namespaces"]["default"]["seed"] == 9
        server.terminate()


def test_a_body_at_the_depth_limit_survives_a_served_restart(tmp_path):
    """The 970-deep push_response once made the restart fail (RecursionError, worker exit
    3); now it is refused, and a body at the limit restarts fine under the real server."""
    path = tmp_path / "data.json"
    with Served(path) as server:
        requests.put(
            server.base + "/__sim/state/omoto",
            json={"campaigns": [{"campaign_id": "154", "api_key": "K"}]},
            timeout=5,
        ).raise_for_status()
        for depth, status in ((970, 400), (513, 400), (512, 200)):
            arrays = depth - 2
            body = '{"campaignid": 154, "namevaluemap": {"d": ' + "[" * arrays + "1"
            body += "]" * arrays + "}}"
            r = requests.post(
                server.base + "/omoto/endpoint.htm?key=K",
                data={"jsonheader": '{"processid": "76"}', "jsonbody": body},
                timeout=5,
            )
            assert (r.status_code, r.json()) == (
                status,
                {"response": "parseerror"} if status == 400 else {"status": "success"},
            )
        before = requests.get(server.base + "/__sim/state/omoto", timeout=5).content
        server.terminate()
    with Served(path) as again:
        after = requests.get(again.base + "/__sim/state/omoto", timeout=5).content
        again.terminate()
    assert json.loads(after)["responses"] and after == before
