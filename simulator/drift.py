"""Drift: where crmsim's answer differs from the real vendor's to the same request.

``compare`` is the one comparison, used by ``crmsim drift`` (scenarios replayed against the
real sandbox and against crmsim, ``check``) and by ``crmsim serve --shadow``
(``simulator/shadow.py``). It reports, each as a ``Drift`` with a JSON pointer:

* ``status``: the statuses differ (or one side dropped the connection);
* ``envelope``: for an error answer (either status 400 or more), the error body's fields
  and values (its envelope: ``status``/``message``, ``code``/``description``, ...);
* ``schema``: an answer that the schemas its operation declares for that status
  (``schemas/<vendor>/<name>.json``, via ``Operation.answers``) do not describe, or a status
  the operation does not declare: said per side (``real`` or ``crmsim``);
* ``body``: a success body's fields after normalisation: values the simulator generates
  (times, 32-hex ids, tokens, BOTW ``l-`` ids: ``simulator.recording.GENERATED``, the same
  list ``crmsim record`` uses) are equal when both sides have one of the same kind; fields
  named in ``ignore`` are compared by JSON type only.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.recording import generated_pattern
from simulator.scenarios.transport import Answer
from simulator.schemas import Schemas, pointer, type_name

ABSENT = "(absent)"


@dataclass
class Drift:
    """One difference between the real vendor's answer and crmsim's."""

    kind: str  # status | envelope | schema | body
    pointer: str
    real: Any
    crmsim: Any
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "pointer": self.pointer,
            "real": self.real,
            "crmsim": self.crmsim,
            "detail": self.detail,
        }

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.pointer or '/'}: {self.detail}; real {_show(self.real)}, "
            f"crmsim {_show(self.crmsim)}"
        )


def _show(value: Any, width: int = 60) -> str:
    text = value if value == ABSENT else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def answer_schemas(operation: str | None, status: int) -> tuple[str, ...] | None:
    """The schema files an answer of ``status`` to ``operation`` may match; None when the
    operation is unknown."""
    from simulator.vendors import VENDORS

    if not operation or "." not in operation:
        return None
    slug, _, name = operation.partition(".")
    vendor = VENDORS.get(slug)
    op = vendor.operation(name) if vendor is not None else None
    return None if op is None else op.answer_schemas(slug, status)


def compare(
    operation: str | None,
    real: Answer,
    sim: Answer,
    schemas: Schemas | None = None,
    ignore: Collection[str] = (),
) -> list[Drift]:
    """What differs between ``real``'s answer and ``sim``'s (see the module's docstring)."""
    out: list[Drift] = []
    if real.dropped or sim.dropped:
        if real.dropped != sim.dropped:
            said = "the real vendor dropped the connection" if real.dropped else "crmsim dropped it"
            out.append(Drift("status", "/status", real.status, sim.status, said))
        return out
    if real.status != sim.status:
        out.append(Drift("status", "/status", real.status, sim.status, "the statuses differ"))
    if schemas is not None:
        for side, answer in (("real", real), ("crmsim", sim)):
            out.extend(_schema(operation, side, answer, schemas))
    error = (real.status or 0) >= 400 or (sim.status or 0) >= 400
    _body(real.body, sim.body, [], "envelope" if error else "body", out, set(ignore))
    return out


def _schema(operation: str | None, side: str, answer: Answer, schemas: Schemas) -> list[Drift]:
    status = answer.status or 0
    names = answer_schemas(operation, status)
    if names is None:
        return []
    real, sim = (status, ABSENT) if side == "real" else (ABSENT, status)
    if not names:
        said = f"{side}: {operation} declares no answer with status {status}"
        return [Drift("schema", "/status", real, sim, said)]
    found = [(name, schemas.validate(name, answer.body)) for name in names if schemas.has(name)]
    if not found or any(not problems for _, problems in found):
        return []
    name, problems = found[0]
    out = []
    for v in problems:
        at = "/body" + v["pointer"]
        said = f"{side}: the answer does not match {name}: {v['message']}"
        out.append(
            Drift(
                "schema",
                at,
                *((v["keyword"], ABSENT) if side == "real" else (ABSENT, v["keyword"])),
                said,
            )
        )
    return out


def _body(
    real: Any, sim: Any, at: list[Any], kind: str, out: list[Drift], ignore: set[str]
) -> None:
    where = "/body" + pointer(at)
    name = str(at[-1]) if at else ""
    if name in ignore:
        if type_name(real) != type_name(sim):
            out.append(Drift(kind, where, real, sim, "the JSON types differ"))
        return
    if isinstance(real, dict) and isinstance(sim, dict):
        for k in [*real, *(k for k in sim if k not in real)]:
            if k not in sim:
                out.append(
                    Drift(
                        kind,
                        where + pointer([k]),
                        real[k],
                        ABSENT,
                        "only the real vendor answers this field",
                    )
                )
            elif k not in real:
                out.append(
                    Drift(
                        kind, where + pointer([k]), ABSENT, sim[k], "only crmsim answers this field"
                    )
                )
            else:
                _body(real[k], sim[k], [*at, k], kind, out, ignore)
        return
    if isinstance(real, list) and isinstance(sim, list):
        if len(real) != len(sim):
            said = f"the real vendor answers {len(real)} items, crmsim {len(sim)}"
            out.append(Drift(kind, where, len(real), len(sim), said))
        for i, (a, b) in enumerate(zip(real, sim, strict=False)):
            _body(a, b, [*at, i], kind, out, ignore)
        return
    if type_name(real) != type_name(sim) or isinstance(real, bool) != isinstance(sim, bool):
        out.append(Drift(kind, where, real, sim, "the JSON types differ"))
        return
    if real == sim:
        return
    if isinstance(real, str) and isinstance(sim, str):
        kind_of = generated_pattern(real)
        if kind_of is not None and kind_of == generated_pattern(sim):
            return  # both generated values of the same kind
    out.append(Drift(kind, where, real, sim, "the values differ"))


# -- crmsim drift: scenarios against the real sandbox and against crmsim --------------------
class Real:
    """The real vendors as a scenario transport: requests go to the base URL of the vendor
    whose path it is; there is no control plane (``control`` answers 404, nothing)."""

    def __init__(self, urls: Mapping[str, str], session: Any = None, timeout: float = 60.0) -> None:
        import requests

        from simulator.mounts import mount
        from simulator.vendors import VENDORS

        self.urls = {k: v.rstrip("/") for k, v in urls.items()}
        self.vendors = mount(VENDORS.values(), {})
        self.session = session or requests.Session()
        self.timeout = timeout

    def vendor_of(self, path: str) -> str | None:
        return next((v.slug for v in self.vendors if v.owns(path.partition("?")[0])), None)

    def send(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes | None,
    ) -> Answer:
        import requests

        from simulator.scenarios.transport import _decode

        vendor = self.vendor_of(path)
        if vendor is None or vendor not in self.urls:
            raise LookupError(f"no --real URL for {path}")
        try:
            r = self.session.request(
                method,
                self.urls[vendor] + path,
                params=query,
                headers=headers,
                data=body,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.ConnectionError:
            return Answer(None, {}, None, dropped=True)
        return Answer(r.status_code, dict(r.headers.items()), _decode(r.content))

    def control(self, method: str, path: str, doc: Any = None) -> tuple[int, Any]:
        return 404, None


@dataclass
class StepDrift:
    index: int
    name: str
    operation: str | None
    drifts: list[Drift] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.drifts and self.error is None


@dataclass
class ScenarioDrift:
    file: str
    name: str
    steps: list[StepDrift] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and all(s.ok for s in self.steps)


def check(
    scenario: Any,
    real: Real,
    runner: Any,
    schemas: Schemas,
    ignore: Collection[str] = (),
) -> ScenarioDrift:
    """Replay ``scenario`` step by step against the real vendor (``real``) and against
    crmsim (``runner``'s transport, a fresh namespace set up from the scenario) and compare
    each pair of answers. Each side saves its own values (``$save``) from its own answers;
    the scenario's expectations are not judged, only the differences."""
    import secrets as random

    import requests

    from simulator.scenarios import Bindings, UnknownReference, step_name
    from simulator.scenarios.runner import resolve_vars

    started = time.perf_counter()
    result = ScenarioDrift(scenario.file, scenario.name)
    if scenario.is_property:
        result.error = "a property scenario ($draw) is not drift-checked: draw a plain one"
        return result
    for i, step in enumerate(scenario.steps):
        vendor = real.vendor_of(str(step["path"]))
        if vendor not in real.urls:
            result.error = f"step {i} is for {vendor or step['path']}: no --real {vendor}=URL"
            return result
    sim = runner.transport("drift-" + random.token_hex(8))
    try:
        try:
            values = resolve_vars(scenario.doc)
        except UnknownReference as exc:
            result.error = str(exc)
            return result
        on_sim, on_real = Bindings(saved=dict(values)), Bindings(saved=dict(values))
        # a fault rule makes crmsim unlike the vendor on purpose: not set up here
        honest = dataclasses.replace(
            scenario, doc={k: v for k, v in scenario.doc.items() if k != "faults"}
        )
        result.error = runner._setup(sim, honest, on_sim)
        if result.error:
            return result
        for i, step in enumerate(scenario.steps):
            t0 = time.perf_counter()
            one = StepDrift(i, step_name(step, i), step.get("operation"))
            result.steps.append(one)
            ran_real = runner._step(real, i, step, on_real, None, None)
            ran_sim = runner._step(sim, i, step, on_sim, None, None)
            one.seconds = time.perf_counter() - t0
            if ran_real.error or ran_sim.error:
                one.error = "; ".join(
                    f"{side}: {r.error}"
                    for side, r in (("real", ran_real), ("crmsim", ran_sim))
                    if r.error
                )
                break
            if one.operation is None:
                _, doc = sim.control("GET", "/journal?limit=1")
                entries = doc.get("entries", []) if isinstance(doc, dict) else []
                one.operation = entries[-1]["operation"] if entries else None
            # what only crmsim's control plane can say (expect_state's saves): both sides
            for name, value in on_sim.saved.items():
                on_real.saved.setdefault(name, value)
            answers = [_answer(b) for b in (on_real, on_sim)]
            one.drifts = compare(one.operation, answers[0], answers[1], schemas, ignore)
    except LookupError as exc:
        result.error = str(exc)
    except requests.RequestException as exc:
        result.error = f"the real vendor stopped answering: {exc}"
    finally:
        try:
            sim.control("DELETE", "")
        except Exception:  # noqa: BLE001 (best effort: the namespace is unique anyway)
            pass
        result.seconds = time.perf_counter() - started
    return result


def _answer(bindings: Any) -> Answer:
    r = bindings.steps[-1]["response"]
    return Answer(r["status"], r["headers"], r["body"], dropped=r["status"] is None)


def table(results: list[ScenarioDrift]) -> str:
    """One row per difference: scenario, step, operation, kind, pointer, real, crmsim."""
    header = ("scenario", "step", "operation", "kind", "pointer", "real", "crmsim", "detail")
    rows: list[tuple[str, ...]] = []
    for r in results:
        if r.error:
            rows.append((r.file, "-", "-", "error", "-", "", "", r.error))
        for s in r.steps:
            if s.error:
                rows.append(
                    (r.file, str(s.index), s.operation or "-", "error", "-", "", "", s.error)
                )
            for d in s.drifts:
                rows.append(
                    (
                        r.file,
                        str(s.index),
                        s.operation or "-",
                        d.kind,
                        d.pointer,
                        _show(d.real, 40),
                        _show(d.crmsim, 40),
                        d.detail,
                    )
                )
    if not rows:
        return ""
    widths = [max(len(row[c]) for row in [header, *rows]) for c in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def junit(results: list[ScenarioDrift]) -> str:
    """One ``testcase`` per step (``classname`` the scenario file), failing on drift."""
    import xml.etree.ElementTree as ET

    cases = [(r, s) for r in results for s in r.steps]
    broken = [r for r in results if r.error and not r.steps]
    failures = sum(1 for _, s in cases if not s.ok) + sum(1 for r in results if r.error)
    root = ET.Element(
        "testsuite",
        name="crmsim drift",
        tests=str(len(cases) + len(broken)),
        failures=str(failures),
        errors="0",
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for r in results:
        for s in r.steps:
            case = ET.SubElement(
                root,
                "testcase",
                classname=r.file,
                name=f"step {s.index} ({s.name})",
                time=f"{s.seconds:.3f}",
            )
            if not s.ok:
                message = s.error or f"{len(s.drifts)} difference(s) from the real vendor"
                ET.SubElement(case, "failure", message=message).text = "\n".join(
                    str(d) for d in s.drifts
                )
        if r.error:
            case = ET.SubElement(root, "testcase", classname=r.file, name=r.name, time="0")
            ET.SubElement(case, "failure", message=r.error)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def run(
    paths: list[str],
    urls: Mapping[str, str],
    target: str | None = None,
    junit_path: str | None = None,
    ignore: Collection[str] = (),
    echo: Callable[[str], None] | None = None,
    control_token: str | None = None,
    app: Any = None,
) -> int:
    """``crmsim drift``: 0 without drift, 1 with drift, 2 when nothing could run."""
    import click

    from simulator.scenarios import Runner, ScenarioInvalid, TargetUnreachable, load_all
    from simulator.schemas import default_schemas_dir
    from simulator.schemas import load as load_schemas

    say = echo or click.echo
    try:
        scenarios = load_all(paths)
    except ScenarioInvalid as exc:
        say(f"crmsim drift: {len(exc.problems)} problem(s); nothing was run:")
        for problem in exc.problems:
            say(f"  {problem}")
        return 2
    try:
        runner = Runner(target=target, app=app, control_token=control_token)
    except TargetUnreachable as exc:
        say(f"crmsim drift: {exc}")
        return 2
    schemas = load_schemas(default_schemas_dir().resolve())
    real = Real(urls)
    results = [check(s, real, runner, schemas, ignore) for s in scenarios]
    shown = table(results)
    if shown:
        say(shown)
    drifted = sum(1 for r in results if not r.ok)
    steps = sum(len(r.steps) for r in results)
    say(
        f"crmsim drift: {len(results) - drifted} of {len(results)} scenario(s) without drift "
        f"({steps} step(s) compared)"
    )
    if junit_path:
        Path(junit_path).write_text(junit(results), encoding="utf-8")
    return 1 if drifted else 0
