"""The Dockerfile: linted with hadolint, its install steps run in a fresh virtual environment.

No Docker engine runs on CI machines, so the image is never built here; instead the same
steps (build the wheel, ``pip install`` it, ``crmsim serve --host 0.0.0.0 --port ...``,
the health check) run against a new venv, which proves the package carries its schemas and
serves from a non-editable install.
"""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import venv
from pathlib import Path

import requests
from _serve import free_port
from helpers import read_line, wait_until

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_says_what_the_issue_asks():
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.\d+-slim", text, re.M)
    assert re.search(r"^USER (?!root|0\b)", text, re.M)
    assert "HEALTHCHECK" in text and "/__sim/health" in text
    assert re.search(r'^VOLUME \["/data"\]', text, re.M)
    assert (
        'ENTRYPOINT ["crmsim", "serve", "--host", "0.0.0.0", "--port", "8080", '
        '"--generate-control-token"]'
    ) in text
    assert "CRMSIM_CONTROL_TOKEN" in text  # the token is documented where it is used


def test_the_install_steps_serve_from_a_fresh_venv(tmp_path):
    wheels, env = tmp_path / "wheels", tmp_path / "venv"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    # FROM ... AS build: RUN pip wheel --no-deps --wheel-dir /wheels .
    subprocess.run(
        [*pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(ROOT)],
        check=True,
        timeout=120,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("crmsim-*.whl")
    # RUN pip install /wheels/*.whl (pip's cache makes the dependencies quick)
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        check=True,
        timeout=300,
    )
    schemas = subprocess.run(
        [str(python), "-c", "from simulator.schemas import default_schemas_dir as d; print(d())"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.strip()
    assert schemas.endswith("site-packages/simulator/_schemas"), schemas
    # ENTRYPOINT crmsim serve --host 0.0.0.0 --port 8080 --generate-control-token, then the
    # HEALTHCHECK (open), then a control call with the token the container printed
    port = free_port()
    proc = subprocess.Popen(
        [str(env / "bin" / "crmsim"), "serve", "--host", "0.0.0.0", "--port", str(port)]
        + ["--generate-control-token"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # the finally stops the whole group: the server and its workers
    )
    try:
        line = read_line(proc.stderr, what="the generated control token").decode()
        assert "control token (generated" in line, line
        token = line.rsplit(": ", 1)[1].strip()

        def health_answer():
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                return requests.get(f"http://127.0.0.1:{port}/__sim/health", timeout=1)
            except requests.RequestException:  # refused, or a read timeout while it boots
                return None

        health = wait_until(health_answer, timeout=30, what="crmsim serve answering")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        botw = requests.put(
            f"http://127.0.0.1:{port}/__sim/state/botw",
            json={"api_keys": {"K": ["1"]}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert botw.status_code == 200, botw.text  # schema validation works from the wheel
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stderr.close()
