"""Running scenarios, each in a fresh namespace, in-process or on a running crmsim.

A scenario with a ``$draw`` runs as a Hypothesis property test. Nothing here imports Flask
at import time: the in-process transport's app is built lazily.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from simulator.scenarios.checks import REQUEST_KEYS
from simulator.scenarios.draws import Draw, has_draw, replace_draws, resolve_draws
from simulator.scenarios.load import Scenario
from simulator.scenarios.matchers import MISSING, Difference, compare
from simulator.scenarios.refs import Bindings, UnknownReference
from simulator.scenarios.report import Result, StepResult, minimal_yaml
from simulator.scenarios.transport import (
    Answer,
    InProcess,
    Remote,
    TargetUnreachable,
    Transport,
    check_target,
)

CI_MAX_EXAMPLES = 25  # the ``ci`` Hypothesis profile of the test suite


def step_name(step: dict[str, Any], index: int) -> str:
    """A step's label in reports: its name, else its operation, else method and path."""
    label = step.get("name") or step.get("operation") or f"{step['method']} {step['path']}"
    return str(label)


class Runner:
    """Runs scenarios, each in a fresh namespace: in-process by default, or on ``target``."""

    def __init__(
        self,
        target: str | None = None,
        app: Any = None,
        max_examples: int | None = None,
        control_token: str | None = None,
    ) -> None:
        self.target = target.rstrip("/") if target else None
        self.control_token = control_token
        if app is None and not self.target:
            # Built once, before any worker thread: scenarios running in parallel must share
            # it (namespaces keep them apart), and building apps on several threads at once
            # trips a CPython 3.11 bug in compile() ("AST constructor recursion depth").
            from simulator.app import create_app

            app = create_app()
        self._app = app
        self.max_examples = max_examples
        self._session: Any = None
        if self.target:
            import requests
            from requests.adapters import HTTPAdapter

            check_target(self.target)
            self._session = requests.Session()
            self._session.mount("http://", HTTPAdapter(pool_maxsize=32))
            # the control token, before any scenario runs (a 401 stops the run: exit 2)
            Remote(self._session, self.target, "default", control_token).control("GET", "/seed")

    @property
    def app(self) -> Any:
        return self._app

    def transport(self, namespace: str) -> Transport:
        if self.target:
            return Remote(self._session, self.target, namespace, self.control_token)
        return InProcess(self.app, namespace)

    def run(self, scenario: Scenario) -> Result:
        started = time.perf_counter()
        if scenario.is_property:
            result = self._run_property(scenario)
        else:
            result = self._run_once(scenario, None)
        result.seconds = time.perf_counter() - started
        return result

    # one pass over the steps, in a namespace of its own
    def _run_once(
        self, scenario: Scenario, draw: Draw | None, plain: list[dict[str, Any]] | None = None
    ) -> Result:
        result = Result(scenario)
        namespace = "scn-" + secrets.token_hex(8)
        t = self.transport(namespace)
        try:
            try:
                bindings = Bindings(saved=resolve_vars(scenario.doc))
            except UnknownReference as exc:
                result.error = str(exc)
                return result
            result.error = self._setup(t, scenario, bindings)
            if result.error:
                return result
            for i, step in enumerate(scenario.steps):
                step_result = self._step(t, i, step, bindings, draw, plain)
                result.steps.append(step_result)
                if not step_result.ok:
                    break
            else:
                try:
                    result.verify = verify(t, scenario.doc.get("verify", []), "/verify", bindings)
                except UnknownReference as exc:
                    result.error = str(exc)
            return result
        except Exception as exc:  # the target went away, say, in the middle of a run
            import requests

            if isinstance(exc, requests.RequestException):
                result.error = f"crmsim stopped answering at {self.target}: {exc}"
                return result
            if isinstance(exc, TargetUnreachable):
                result.error = str(exc)
                return result
            raise
        finally:
            try:
                t.control("DELETE", "")
            except Exception:  # noqa: BLE001 (best effort: the namespace is unique anyway)
                pass

    def _setup(
        self, t: Transport, scenario: Scenario, bindings: Bindings | None = None
    ) -> str | None:
        doc = scenario.doc
        given: Any = scenario.given
        if doc.get("vars") and bindings is not None:  # ${var} in the given state, keys too
            try:
                given = _with_keys(given, bindings)
            except UnknownReference as exc:
                return f"setting up given failed: {exc}"
        calls: list[tuple[str, str, Any]] = [("PUT", "/seed", {"seed": scenario.seed})]
        if "settings" in doc:
            calls.append(("PUT", "/settings", doc["settings"]))
        if "frozen_at" in doc:
            calls.append(("PUT", "/clock", {"now": doc["frozen_at"]}))
        calls.append(("PUT", "/state", given))
        calls.extend(("POST", "/faults", rule) for rule in doc.get("faults", []))
        for method, path, body in calls:
            status, answer = t.control(method, path, body)
            if status >= 300:
                where = {"/state": "given", "/faults": "faults", "/clock": "frozen_at"}.get(
                    path, path
                )
                errors = answer.get("errors") if isinstance(answer, dict) else None
                detail = "; ".join(
                    f"{e.get('pointer') or '/'}: {e.get('message')}" for e in errors or []
                )
                title = answer.get("detail") if isinstance(answer, dict) else answer
                return f"setting up {where} failed ({status}): {detail or title}"
        return None

    def _step(
        self,
        t: Transport,
        i: int,
        step: dict[str, Any],
        bindings: Bindings,
        draw: Draw | None,
        plain: list[dict[str, Any]] | None,
    ) -> StepResult:
        result = StepResult(i, step_name(step, i))
        started = time.perf_counter()
        try:
            request, plain_step = self._request(i, step, bindings, draw)
        except UnknownReference as exc:
            result.error = str(exc)
            return result
        if plain is not None:
            plain.append(plain_step)
        method, path = request["method"], request["path"]
        query = _pairs(request.get("query", {}))
        headers = {str(k): str(v) for k, v in request.get("headers", {}).items()}
        body: bytes | None = None
        lower = {k.lower() for k in headers}
        if "json" in request:
            body = json.dumps(request["json"], ensure_ascii=False).encode("utf-8")
            if "content-type" not in lower:
                headers["Content-Type"] = "application/json"
        elif "form" in request:
            body = urlencode(_pairs(request["form"])).encode("ascii")
            if "content-type" not in lower:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif "raw" in request:
            body = str(request["raw"]).encode("utf-8")
        answer = t.send(method, path, query, headers, body)
        bindings.steps.append(
            {
                "request": request,
                "response": {
                    "status": answer.status,
                    "headers": answer.headers,
                    "body": answer.body,
                },
            }
        )
        try:
            result.differences = self._expectations(t, step, answer, bindings)
        except UnknownReference as exc:
            result.error = str(exc)
        result.seconds = time.perf_counter() - started
        return result

    def _request(
        self, i: int, step: dict[str, Any], bindings: Bindings, draw: Draw | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The request to send (references and draws resolved), and the step as a plain
        scenario would write it (draws replaced by what was drawn)."""
        request: dict[str, Any] = {"method": step["method"]}
        plain = copy.deepcopy(step)
        for key in REQUEST_KEYS:
            if key not in step:
                continue
            value = bindings.substitute(step[key])
            if draw is not None and has_draw(value):
                drawn = resolve_draws(value, draw, f"step {i} {key}")
                plain[key] = replace_draws(step[key], drawn)
                value = drawn
            request[key] = value
        return request, plain

    def _expectations(
        self, t: Transport, step: dict[str, Any], answer: Answer, bindings: Bindings
    ) -> list[Difference]:
        expect = bindings.substitute(step["expect"])
        out: list[Difference] = []
        saved = bindings.saved
        if answer.dropped:
            if not expect.get("dropped"):
                out.append(
                    Difference("/status", expect.get("status"), None, "the connection was dropped")
                )
            return out
        if expect.get("dropped"):
            out.append(Difference("/status", "(dropped)", answer.status, "an answer came"))
            return out
        compare(expect["status"], answer.status, "/status", out, saved)
        if "headers" in expect:
            headers = {k.lower(): v for k, v in answer.headers.items()}
            for name, value in expect["headers"].items():
                compare(value, headers.get(name.lower(), MISSING), f"/headers/{name}", out, saved)
        if "body" in expect:
            compare(expect["body"], answer.body, "/body", out, saved)
        if step.get("operation"):
            status, doc = t.control("GET", "/journal?limit=1")
            entries = doc.get("entries", []) if isinstance(doc, dict) else []
            got = entries[-1]["operation"] if entries else None
            if got != step["operation"]:
                out.append(
                    Difference("/operation", step["operation"], got, "reached another route")
                )
        for key, path, part in (
            ("expect_state", "/state", None),
            ("expect_journal", "/journal", "entries"),
            ("expect_outbox", "/outbox", "entries"),
        ):
            if key not in step:
                continue
            status, doc = t.control("GET", path)
            actual = doc.get(part) if part and isinstance(doc, dict) else doc
            compare(bindings.substitute(step[key]), actual, f"/{key}", out, saved)
        out.extend(verify(t, step.get("verify", []), "/verify", bindings))
        return out

    # property scenarios
    def examples_for(self, scenario: Scenario) -> int:
        """The file's ``examples``, capped by ``max_examples`` and the loaded Hypothesis
        profile (the test suite's ``ci`` profile has 25)."""
        from hypothesis import settings

        loaded = settings.default
        n = min(scenario.examples, loaded.max_examples if loaded else scenario.examples)
        return min(n, self.max_examples) if self.max_examples else n

    def _run_property(self, scenario: Scenario) -> Result:
        from hypothesis import HealthCheck, Phase, Verbosity, given, settings
        from hypothesis import seed as hypothesis_seed
        from hypothesis import strategies as st

        examples = self.examples_for(scenario)
        last: list[tuple[Result, list[dict[str, Any]]]] = []
        runs = [0]

        class Failed(Exception):
            pass

        @hypothesis_seed(scenario.seed)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=False,
            print_blob=False,
            report_multiple_bugs=False,
            verbosity=Verbosity.quiet,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate, Phase.shrink],
        )
        @given(st.data())
        def prop(data: Any) -> None:
            runs[0] += 1
            plain: list[dict[str, Any]] = []

            def draw(strategy: Any, label: str) -> Any:
                return data.draw(strategy, label=label)

            result = self._run_once(scenario, draw, plain)
            last[:] = [(result, plain)]
            if not result.ok:
                raise Failed

        try:
            prop()
        except Failed:
            result, plain = last[0]
            result.examples = runs[0]
            result.minimal = minimal_yaml(scenario, plain, len(result.steps))
            return result
        except Exception as exc:  # noqa: BLE001 (Flaky, Unsatisfiable, …: say so, per scenario)
            broken = Result(scenario, examples=runs[0])
            broken.error = f"the property test could not run: {type(exc).__name__}: {exc}"
            return broken
        result, _ = last[0] if last else (Result(scenario), [])
        result.examples = runs[0]
        return result


def verify(
    t: Transport, items: list[dict[str, Any]], at: str, bindings: Bindings
) -> list[Difference]:
    """``verify:`` items against the journal: each pattern must match ``times`` entries (at
    least one without it). A failure is one difference at the item saying how many matched
    (and which, or the closest entry), then the closest entry's differences under it. The
    first match runs the pattern's ``$save``s."""
    from simulator.verify import closest, describe, mismatches, pattern, satisfied

    out: list[Difference] = []
    if not items:
        return out
    _, doc = t.control("GET", "/journal")
    journal = doc.get("entries", []) if isinstance(doc, dict) else []
    for k, item in enumerate(bindings.substitute(items)):
        where = f"{at}/{k}"
        times = item.get("times")
        wanted = pattern({key: v for key, v in item.items() if key != "times"})
        found = [e for e in journal if not mismatches(wanted, e)]
        if satisfied(times, len(found)):
            if found:
                mismatches(wanted, found[0], bindings.saved)
            continue
        said = f"{len(found)} of the {len(journal)} journaled requests match"
        near = None if found else closest(wanted, journal)
        if found:
            said += ": " + ", ".join(describe(e) for e in found)
        elif near is not None:
            said += f"; the closest is {describe(near[0])}"
        expected = "at least 1" if times is None else times
        out.append(Difference(where, expected, len(found), said))
        if near is not None:
            out.extend(
                Difference(where + d.pointer, d.expected, d.actual, d.reason) for d in near[1]
            )
    return out


def resolve_vars(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario's ``vars``: each ``CRMSIM_VAR_<NAME>`` when set, else its default; a
    var with neither is an ``UnknownReference`` naming the variable to set."""
    from simulator.config import VAR_ENV, scenario_var

    values: dict[str, Any] = {}
    for name, default in (doc.get("vars") or {}).items():
        value = scenario_var(name)
        if value is None:
            value = default
        if value is None:
            raise UnknownReference(f"vars: {name} has no value; set {VAR_ENV.format(name.upper())}")
        values[name] = value
    return values


def _with_keys(node: Any, bindings: Bindings) -> Any:
    if isinstance(node, dict):
        return {
            bindings.substitute(k) if isinstance(k, str) else k: _with_keys(v, bindings)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_with_keys(v, bindings) for v in node]
    return bindings.substitute(node)


def _pairs(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for k, v in fields.items():
        for item in v if isinstance(v, list) else [v]:
            pairs.append((str(k), _text(item)))
    return pairs


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
