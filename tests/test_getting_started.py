"""The first steps of the README work as written: when `crmsim serve` (`make run`) serves,
`crmsim wait`/`make wait`, the port from `make run PORT=...` or CRMSIM_PORT, `crmsim record`'s
default target."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import requests
from _serve import free_port, serving
from click.testing import CliRunner
from helpers import wait_until

from simulator.cli import main
from simulator.config import local_url

ROOT = Path(__file__).resolve().parent.parent


def test_serve_prints_its_url_once_it_answers():
    with serving() as (base, proc):
        line = wait_until(
            lambda: next((x for x in proc.output().splitlines() if "ready on" in x), None),
            timeout=30,
            what="the ready line",
        )
    assert line.startswith(f"crmsim: ready on {base} (answered /__sim/health in ")


def test_wait_answers_the_url_of_a_serving_crmsim(served):
    result = CliRunner().invoke(main, ["wait", "--target", served, "--timeout", "5"])
    assert (result.exit_code, result.stdout) == (0, served + "\n")


def test_wait_gives_up_at_its_deadline():
    port = free_port()
    result = CliRunner().invoke(main, ["wait", "--timeout", "0.3"], env={"CRMSIM_PORT": str(port)})
    assert result.exit_code == 1
    assert f"http://127.0.0.1:{port} did not answer within 0.3 s" in result.stderr


def test_local_url_follows_the_server_settings():
    assert local_url({}) == "http://127.0.0.1:8080"
    assert local_url({"CRMSIM_PORT": "9000", "CRMSIM_HOST": "0.0.0.0"}) == "http://127.0.0.1:9000"
    assert local_url({"CRMSIM_HOST": "::1", "CRMSIM_CERTFILE": "c.pem"}) == "https://[::1]:8080"


def test_record_reaches_the_crmsim_on_crmsim_port(served, tmp_path):
    requests.get(f"{served}/__ns/rec-port/crm/1", timeout=5)  # one journaled call (a 403)
    out = tmp_path / "s.yaml"
    port = str(urlsplit(served).port)
    result = CliRunner().invoke(
        main, ["record", "--namespace", "rec-port", "-o", str(out)], env={"CRMSIM_PORT": port}
    )
    assert result.exit_code == 0, result.output
    assert "botw.search_contacts" in out.read_text()


def test_make_run_ignores_a_shells_host_and_port_but_honours_crmsim_port():
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMSIM_")}

    def dry(**extra):
        done = subprocess.run(
            ["make", "-s", "-n", "run"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**env, **extra},
        )
        return done.stdout.splitlines()[-1]

    assert dry(HOST="somebox", PORT="1").startswith("CRMSIM_PORT=8080 CRMSIM_HOST=127.0.0.1 ")
    assert dry(CRMSIM_PORT="9001").startswith("CRMSIM_PORT=9001 ")


def test_make_run_takes_the_port_and_make_wait_waits_for_it(served):
    port = str(urlsplit(served).port)
    dry = subprocess.run(
        ["make", "-s", "-n", "run", f"PORT={port}"], cwd=ROOT, capture_output=True, text=True
    )
    assert f"CRMSIM_PORT={port} " in dry.stdout.splitlines()[-1]
    env = {k: v for k, v in os.environ.items() if k not in ("CRMSIM_PORT", "CRMSIM_HOST")}
    done = subprocess.run(
        ["make", "-s", "wait", f"PORT={port}", "WAIT_TIMEOUT=10"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert (done.returncode, done.stdout) == (0, f"crmsim is serving on {served}\n")


def test_every_option_says_what_it_does_and_its_environment_variable():
    from dataclasses import fields

    import click

    from simulator.config import Config

    settings = {f.name for f in fields(Config)}
    for name, command in main.commands.items():
        for param in command.params:
            if not isinstance(param, click.Option) or param.name is None:
                continue
            where = f"crmsim {name} {param.opts[0]}"
            assert param.help, f"{where} has no help text"
            if name == "serve" and param.name in settings:  # read by Config.from_env too
                assert f"CRMSIM_{param.name.upper()}" in param.help, where


def test_fake_names_its_credentials_on_stderr_and_keeps_stdout_json():
    import json

    from simulator.fake import credentials

    result = CliRunner().invoke(main, ["fake", "--seed", "3", "--size", "2"])
    assert result.exit_code == 0
    json.loads(result.stdout)  # the whole of stdout is the state document
    creds = credentials(3)
    lines = result.stderr.splitlines()
    assert lines[0] == "crmsim fake: seed 3, 2 records per vendor; credentials for a first call:"
    botw = next(x for x in lines if x.strip().startswith("botw"))
    assert f"api_key={creds['botw']['api_key']}" in botw
    crmcom = next(x for x in lines if x.strip().startswith("crmcom"))
    assert f"password={creds['crmcom']['password']}" in crmcom
    only = CliRunner().invoke(main, ["fake", "--size", "1", "--vendors", "botw"])
    assert [x.split()[0] for x in only.stderr.splitlines()[1:]] == ["botw"]
