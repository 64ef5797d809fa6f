"""What a run found: results per scenario and step, as text, JUnit XML and plain YAML."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simulator.scenarios.load import Scenario
from simulator.scenarios.matchers import Difference


@dataclass
class StepResult:
    """One step: what differed (nothing when it passed), or why it could not run."""

    index: int
    name: str
    differences: list[Difference] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.differences and self.error is None


@dataclass
class Result:
    """One scenario's outcome."""

    scenario: Scenario
    steps: list[StepResult] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    examples: int | None = None  # property scenarios: examples run
    minimal: str | None = None  # property scenarios: the smallest failing one, as YAML
    verify: list[Difference] = field(default_factory=list)  # the file's verify:, after the steps

    @property
    def ok(self) -> bool:
        return self.error is None and all(s.ok for s in self.steps) and not self.verify

    def report(self) -> str:
        """Plain text: the verdict, then per failing step what differed."""
        verdict = "PASS" if self.ok else "FAIL"
        extra = f", {self.examples} runs" if self.examples is not None else ""
        lines = [
            f"{verdict} {self.scenario.file}: {self.scenario.name} "
            f"({len(self.steps)} of {len(self.scenario.steps)} steps{extra}, {self.seconds:.2f}s)"
        ]
        if self.error:
            lines.append(f"  error: {self.error}")
        for s in self.steps:
            if s.ok:
                continue
            lines.append(f"  step {s.index} ({s.name}):")
            if s.error:
                lines.append(f"    {s.error}")
            lines.extend(f"    {d}" for d in s.differences)
        if self.verify:
            lines.append("  verify (after the last step):")
            lines.extend(f"    {d}" for d in self.verify)
        if self.minimal:
            lines.append("  smallest failing example, as a plain scenario:")
            lines.extend("    " + line for line in self.minimal.splitlines())
        return "\n".join(lines)


def dump_yaml(doc: Any) -> str:
    """A scenario document as YAML, keys in their given order."""
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def minimal_yaml(scenario: Scenario, plain_steps: list[dict[str, Any]], ran: int) -> str:
    """The failing example as a plain scenario: draws replaced by what was drawn, the steps
    after the failing one left out."""
    doc = {k: v for k, v in scenario.doc.items() if k not in ("examples", "steps")}
    doc["name"] = f"{scenario.name} (smallest failing example)"
    doc["steps"] = plain_steps[:ran] or scenario.steps[:ran]
    return dump_yaml(doc)


# -- JUnit XML ----------------------------------------------------------------------------
def junit_xml(results: list[Result], suite: str = "crmsim replay") -> str:
    """One ``testcase`` per scenario, its failures with the per-step differences."""
    import xml.etree.ElementTree as ET

    failures = sum(1 for r in results if not r.ok)
    root = ET.Element(
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(failures),
        errors="0",
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(
            root,
            "testcase",
            classname=Path(r.scenario.file).parent.name or "scenarios",
            name=f"{Path(r.scenario.file).name}: {r.scenario.name}",
            file=r.scenario.file,
            time=f"{r.seconds:.3f}",
        )
        if not r.ok:
            failed = next((s for s in r.steps if not s.ok), None)
            message = r.error or (
                f"step {failed.index} ({failed.name}) failed"
                if failed
                else "verify failed"
                if r.verify
                else "failed"
            )
            ET.SubElement(case, "failure", message=message).text = r.report()
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
