"""Mutation testing: ``make mutation`` (all modules) or ``make mutation MODULES=faults``.

Each module is mutated on its own (mutmut 3), with only the tests that reach it, in a
scratch copy of the project, so the working tree is never touched. The score counts the
mutants that the tests killed out of all mutants, less the equivalent ones listed in
``tests/mutation/equivalent.txt`` (one mutant name per line, ``# why`` after it).

Exit status: 0 when every module reaches its target, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = 98.0

# module (under simulator/) -> the tests that reach it (files or directories)
MODULES: dict[str, list[str]] = {
    "verify": [
        "tests/unit/test_verify_patterns.py",
        "tests/control/test_journal_find.py",
        "tests/test_client_verify.py",
        "tests/scenarios/test_scenario_verify.py",
    ],
    "faults": [
        "tests/control/test_faults.py",
        "tests/control/test_fault_selection.py",
        "tests/control/test_latency.py",
        "tests/control/test_fault_answers.py",
    ],
    "journal": [
        "tests/control/test_control_plane.py",
        "tests/control/test_bounded.py",
        "tests/contract/antcrm/test_outcomes.py",
        "tests/unit/test_journal.py",
    ],
    "store/memory": [
        "tests/unit/test_store.py",
        "tests/unit/test_store_pinned.py",
        "tests/unit/test_store_interface.py",
    ],
    "store/tiny": ["tests/unit/test_store.py", "tests/unit/test_store_interface.py"],
    "pipeline": [
        "tests/control/test_faults.py",
        "tests/control/test_fault_selection.py",
        "tests/control/test_control_plane.py",
        "tests/control/test_problem_documents.py",
        "tests/control/test_hardening.py",
        "tests/contract/botw",
        "tests/contract/test_request_tolerance.py",
        "tests/contract/antcrm/test_outcomes.py",
        "tests/unit/test_pipeline_pinned.py",
        "tests/control/test_latency.py",
        "tests/control/test_fault_answers.py",
        "tests/control/test_newcomer_hints.py",
    ],
    "vendors/botw/models": [
        "tests/contract/botw",
        "tests/property/test_botw_machine.py",
    ],
    "vendors/botw/parsing": [
        "tests/contract/botw",
        "tests/property/test_botw_machine.py",
    ],
    "vendors/omoto/models": [
        "tests/contract/omoto",
        "tests/property/test_omoto_machine.py",
    ],
    "vendors/omoto/parsing": [
        "tests/contract/omoto",
        "tests/property/test_omoto_machine.py",
    ],
    "vendors/antcrm/models": [
        "tests/contract/antcrm",
    ],
    "vendors/antcrm/parsing": [
        "tests/contract/antcrm",
    ],
    "vendors/crmcom/models": [
        "tests/contract/crmcom",
        "tests/contract/test_request_tolerance.py",
        "tests/property/test_crmcom_machine.py",
    ],
    "vendors/crmcom/parsing": [
        "tests/contract/crmcom",
        "tests/contract/test_request_tolerance.py",
        "tests/property/test_crmcom_machine.py",
    ],
}

STATUS = {0: "survived", 1: "killed", 3: "killed", -24: "timeout", 36: "timeout", 152: "timeout"}


def equivalents() -> set[str]:
    path = ROOT / "tests/mutation/equivalent.txt"
    if not path.exists():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {line for line in lines if line}


def scratch_copy(module: str, tests: list[str]) -> Path:
    work = Path(tempfile.mkdtemp(prefix="crmsim-mutation-"))
    for name in ("simulator", "schemas", "scenarios", "tests"):
        shutil.copytree(ROOT / name, work / name, symlinks=True)
    text = (ROOT / "pyproject.toml").read_text()
    # mutmut reads [tool.mutmut] from pyproject.toml, or [mutmut] from setup.cfg
    (work / "pyproject.toml").write_text(text)
    (work / "setup.cfg").write_text(
        "[mutmut]\n"
        "source_paths = simulator\n"
        "also_copy =\n    schemas\n    scenarios\n"
        f"only_mutate = simulator/{module}.py\n"
        "pytest_add_cli_args_test_selection =\n"
        + "".join(f"    {t}\n" for t in tests)
        + "pytest_add_cli_args =\n    -p\n    no:cacheprovider\n    -p\n    no:xdist\n"
    )
    return work


def results(work: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for meta in (work / "mutants").rglob("*.meta"):
        data = json.loads(meta.read_text())
        for name, code in data.get("exit_code_by_key", {}).items():
            found[name] = "not run" if code is None else STATUS.get(code, f"exit {code}")
    return found


def run(module: str, jobs: int, keep: bool, only: list[str]) -> tuple[float, list[str]]:
    tests = MODULES[module]
    work = scratch_copy(module, tests)
    try:
        env = {"HYPOTHESIS_PROFILE": "ci", "PATH": str(Path(sys.executable).parent)}
        with (work / "mutmut.log").open("w") as log:
            subprocess.run(
                [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs), *only],
                cwd=work,
                check=False,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        found = results(work)
        skip = equivalents()
        for name in sorted(k for k, v in found.items() if v == "survived" and k not in skip):
            shown = subprocess.run(
                [sys.executable, "-m", "mutmut", "show", name],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            print(shown.stdout.strip() + "\n")
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")
    counted = {k: v for k, v in found.items() if k not in skip and v != "not run"}
    killed = sum(v in ("killed", "timeout") for v in counted.values())
    survivors = sorted(k for k, v in counted.items() if v not in ("killed", "timeout"))
    score = 100.0 * killed / len(counted) if counted else 100.0
    not_run = sum(v == "not run" for v in found.values())
    print(
        f"{module}: {len(found)} mutants, {not_run} not run, "
        f"{sum(k in skip for k in found)} equivalent, {killed} killed: {score:.1f}%"
    )
    return score, survivors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"of: {', '.join(MODULES)}")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="GLOB",
        help="run only the mutants whose names match (as printed), e.g. to re-check survivors",
    )
    args = parser.parse_args()
    chosen = args.modules or list(MODULES)
    unknown = [m for m in chosen if m not in MODULES]
    if unknown:
        parser.error(f"unknown modules: {', '.join(unknown)}")
    failed = False
    report = []
    for module in chosen:
        score, survivors = run(module, args.jobs, args.keep, args.only)
        report.append((module, score, survivors))
        failed |= score < TARGET
    print("\nmodule | score | survivors")
    for module, score, survivors in report:
        print(f"{module} | {score:.1f}% | {len(survivors)}")
        for name in survivors:
            print("    " + re.sub(r"^simulator\.", "", name))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
