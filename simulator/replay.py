"""What ``crmsim replay`` and ``crmsim record`` do, apart from parsing their options."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click

from simulator.config import hypothesis_profile
from simulator.scenarios import (
    CI_MAX_EXAMPLES,
    Result,
    Runner,
    Scenario,
    ScenarioInvalid,
    TargetUnreachable,
    dump_yaml,
    junit_xml,
    load_all,
)

Echo = Callable[[str], None]


def _err(message: str) -> None:
    click.echo(message, err=True)


def replay(
    paths: Sequence[str],
    target: str | None = None,
    junit: str | None = None,
    jobs: int = 1,
    max_examples: int | None = None,
    echo: Echo = click.echo,
    app: Any = None,
    control_token: str | None = None,
) -> int:
    """Run scenario files; 0 when all pass, 1 when any fails, 2 when none could run."""
    try:
        scenarios = load_all(paths)
    except ScenarioInvalid as exc:
        _err(f"crmsim replay: {len(exc.problems)} problem(s); nothing was run:")
        for problem in exc.problems:
            _err(f"  {problem}")
        return 2
    if max_examples is None and hypothesis_profile() == "ci":
        max_examples = CI_MAX_EXAMPLES
    try:
        runner = Runner(
            target=target, app=app, max_examples=max_examples, control_token=control_token
        )
    except TargetUnreachable as exc:
        _err(f"crmsim replay: {exc}")
        return 2
    results = run_all(runner, scenarios, jobs, show_progress=sys.stderr.isatty())
    for result in results:
        echo(result.report() if not result.ok else result.report().splitlines()[0])
    failed = sum(1 for r in results if not r.ok)
    echo(f"crmsim replay: {len(results) - failed} of {len(results)} scenario(s) passed")
    if junit:
        Path(junit).write_text(junit_xml(results), encoding="utf-8")
    return 1 if failed else 0


def run_all(
    runner: Runner, scenarios: list[Scenario], jobs: int = 1, show_progress: bool = False
) -> list[Result]:
    """Results in the order of ``scenarios``; plain ones on ``jobs`` threads, property ones
    (Hypothesis runs one test per thread) one after another."""
    results: dict[int, Result] = {}
    plain = [i for i, s in enumerate(scenarios) if not s.is_property]
    props = [i for i, s in enumerate(scenarios) if s.is_property]
    with click.progressbar(
        length=len(scenarios),
        label="replaying",
        file=sys.stderr if show_progress else io.StringIO(),
        show_pos=True,
    ) as bar:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {i: pool.submit(runner.run, scenarios[i]) for i in plain}
            for i in props:
                results[i] = runner.run(scenarios[i])
                bar.update(1)
            for i, future in futures.items():
                results[i] = future.result()
                bar.update(1)
    return [results[i] for i in range(len(scenarios))]


def record(
    target: str,
    namespace: str | None,
    since_state: str | None,
    output: str,
    name: str,
    control_token: str | None = None,
) -> int:
    """Write the namespace's journal as a scenario file; 2 when the target cannot be read."""
    from simulator.recording import fetch, scenario_from_journal

    given: dict[str, Any] = {}
    if since_state:
        try:
            given = json.loads(Path(since_state).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            _err(f"crmsim record: cannot read --since-state {since_state}: {exc}")
            return 2
    try:
        found = fetch(target, namespace, control_token)
    except TargetUnreachable as exc:
        _err(f"crmsim record: {exc}")
        return 2
    journal = found["journal"]
    clock = found["clock"]
    frozen_at = journal[0]["at"] if clock.get("frozen") and journal else None
    doc = scenario_from_journal(
        journal, given, name, found["seed"], frozen_at, found["faults"] or None
    )
    if not journal:
        _err("crmsim record: the journal is empty; the scenario has no steps")
        return 2
    with click.open_file(output, "w", encoding="utf-8") as out:
        out.write(dump_yaml(doc))
    _err(f"crmsim record: {len(journal)} step(s) written to {output}")
    return 0
