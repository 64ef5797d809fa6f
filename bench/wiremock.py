"""WireMock standalone for `make bench`: the yardstick crmsim's figures are divided by.

The jar comes from the npm package `wiremock` (it ships WireMock's standalone jar in
`build/`): `npm pack wiremock@VERSION` into a temporary directory, the jar taken out of the
tarball, its SHA-256 checked, and kept in `bench/.cache/` (not in git). Java and npm are
Debian's packages (`openjdk-17-jre-headless`, `npm`), installed with apt-get when missing,
as wrk is. `--wiremock-jar PATH` (bench/run.py) uses a jar already at hand instead.

The server is started as a user starts it for a load test:

    java -jar wiremock-standalone-3.13.2.jar --port P --bind-address 127.0.0.1 \\
        --root-dir DIR --disable-banner --disable-request-logging --no-request-journal

with one static stub in DIR/mappings/ (`POST /crm/123` answers 201 with BOTW's small JSON
body). --disable-request-logging ("useful when performance testing") and
--no-request-journal ("can be disabled for load testing") are WireMock's own advice for
load tests, so the yardstick is WireMock at its fastest: with its journal on (unbounded,
or bounded with --max-request-journal-entries) it served a third to a half as much in a
quick side-by-side run here. crmsim keeps its journal. The JVM runs in a process group of
its own, asked to die with its parent (PR_SET_PDEATHSIG), and is stopped in a finally
(SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
VERSION = "3.13.2"
JAR_NAME = f"wiremock-standalone-{VERSION}.jar"
JAR_SHA256 = "d097b19bd483c5038479b13a5c71e9faf8f2f5106584f0c120a7770ab0bdb367"
CACHE = ROOT / "bench" / ".cache"
STUB_PATH = "/crm/123"
STUB_BODY = {"status": "success", "message": "New contact successfully updated."}
FLAGS = ["--disable-banner", "--disable-request-logging", "--no-request-journal"]


def apt_install(package: str, command: str) -> str:
    print(f"{command} not found: installing Debian's {package} with apt-get", file=sys.stderr)
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(install, check=True)
    found = shutil.which(command)
    if not found:
        raise SystemExit(f"{command} is still missing after apt-get install {package}")
    return found


def ensure_java() -> str:
    java = shutil.which("java") or apt_install("openjdk-17-jre-headless", "java")
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=True)
    found = re.search(r'version "(\d+)', out.stderr + out.stdout)
    if not found or int(found.group(1)) < 11:
        raise SystemExit(f"WireMock 3 needs Java 11 or later; {java} says: {out.stderr}")
    return java


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_jar() -> Path:
    """The cached jar, fetched with `npm pack wiremock@VERSION` the first time."""
    jar = CACHE / JAR_NAME
    if jar.exists() and sha256(jar) == JAR_SHA256:
        return jar
    npm = shutil.which("npm") or apt_install("npm", "npm")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crmsim-wiremock-") as tmp:
        print(f"fetching WireMock {VERSION}: npm pack wiremock@{VERSION}", file=sys.stderr)
        subprocess.run(
            [npm, "pack", f"wiremock@{VERSION}", "--silent", "--pack-destination", tmp],
            check=True,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
        )
        tgz = Path(tmp) / f"wiremock-{VERSION}.tgz"
        with tarfile.open(tgz) as tar:
            member = tar.extractfile(f"package/build/{JAR_NAME}")
            if member is None:
                raise SystemExit(f"{tgz.name} holds no build/{JAR_NAME}")
            part = CACHE / (JAR_NAME + ".part")
            with part.open("wb") as out:
                shutil.copyfileobj(member, out)
    if sha256(part) != JAR_SHA256:
        part.unlink()
        raise SystemExit(f"{JAR_NAME} from npm does not have the expected SHA-256")
    part.replace(jar)
    return jar


def command_line() -> str:
    """The command line, as a user would type it (for the report)."""
    return f"java -jar {JAR_NAME} --port P --bind-address 127.0.0.1 --root-dir DIR " + " ".join(
        FLAGS
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def die_with_parent() -> None:
    """In the child before exec: SIGKILL when bench/run.py dies, however it dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (AttributeError, OSError):
        pass


def stop_group(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Stop a process started in a session of its own, and its children: SIGTERM, then
    SIGKILL after ``timeout`` seconds."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


class WireMock:
    """One WireMock standalone JVM with the static stub, on a free loopback port."""

    def __init__(self, jar: Path, java: str | None = None) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.root = Path(tempfile.mkdtemp(prefix="crmsim-wiremock-root-"))
        (self.root / "mappings").mkdir()
        (self.root / "__files").mkdir()
        mapping = {
            "request": {"method": "POST", "url": STUB_PATH},
            "response": {
                "status": 201,
                "headers": {"Content-Type": "application/json"},
                "jsonBody": STUB_BODY,
            },
        }
        (self.root / "mappings" / "crm-123.json").write_text(json.dumps(mapping))
        self.command = [
            java or ensure_java(),
            "-jar",
            str(jar),
            "--port",
            str(self.port),
            "--bind-address",
            "127.0.0.1",
            "--root-dir",
            str(self.root),
            *FLAGS,
        ]
        self.log = tempfile.TemporaryFile()
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        try:
            self._wait_ready(started)
        except BaseException:
            self.stop()
            raise
        self.start_s = time.perf_counter() - started

    def _wait_ready(self, started: float) -> None:
        while True:
            try:
                req = urllib.request.Request(self.base + STUB_PATH, data=b"x", method="POST")
                with urllib.request.urlopen(req, timeout=5) as resp:
                    if resp.status == 201:
                        return
            except (OSError, urllib.error.URLError):
                pass
            if self.proc.poll() is not None or time.perf_counter() - started > 90:
                self.log.seek(0)
                raise RuntimeError("WireMock did not start: " + self.log.read().decode()[-2000:])
            time.sleep(0.05)

    def rss_mib(self) -> float:
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def stop(self) -> None:
        stop_group(self.proc, 20)
        self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> WireMock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
