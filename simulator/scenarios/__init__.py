"""Scenario files: load and check them, run them through crmsim's HTTP surface, report.

A scenario (YAML, ``schemas/sim/scenario.json``, ``docs/scenarios.md``) is a starting
state, a seed, a frozen time, fault rules and ordered steps. ``load()`` checks a file
completely before anything runs and names every problem by file, line and JSON pointer.
``Runner.run()`` plays it in a fresh namespace, in-process (a Flask test client of a fresh
app) or against a running crmsim (``target``); a scenario with a ``$draw`` runs as a
Hypothesis property test. Comparisons return ``(ok, reason)`` like the ``responses``
library's matchers; the report names each difference by pointer, expected and actual.

One module per job, each importing only those above it:

- ``refs``: ``${...}`` references, ``Bindings`` (a run's steps and saved values), ``escape``
- ``matchers``: ``differences``/``match_value``, the ``$match``/``$type``/... matchers
- ``checks``: static checks of steps, references, matchers and draws; ``FileProblem``
- ``draws``: ``$draw`` as Hypothesis strategies, and the plain scenario a run leaves
- ``load``: YAML with line numbers, ``Scenario``, ``load``/``loads``/``load_all``
- ``transport``: a namespace in-process (``InProcess``) or over HTTP (``Remote``)
- ``report``: ``Result``/``StepResult`` as text, JUnit XML and YAML
- ``runner``: ``Runner``, one scenario at a time, plain or as a property test

Nothing here imports Flask: the in-process transport builds its app lazily.
"""

from simulator.scenarios.checks import FileProblem, known_operations
from simulator.scenarios.load import (
    DEFAULT_EXAMPLES,
    Scenario,
    ScenarioInvalid,
    expand,
    load,
    load_all,
    loads,
)
from simulator.scenarios.matchers import MISSING, Difference, differences, match_value
from simulator.scenarios.refs import Bindings, UnknownReference, escape
from simulator.scenarios.report import Result, StepResult, dump_yaml, junit_xml, minimal_yaml
from simulator.scenarios.runner import CI_MAX_EXAMPLES, Runner, step_name
from simulator.scenarios.transport import (
    Answer,
    InProcess,
    Remote,
    TargetUnreachable,
    Transport,
    check_control_answer,
    check_target,
)

__all__ = [
    "CI_MAX_EXAMPLES",
    "DEFAULT_EXAMPLES",
    "MISSING",
    "Answer",
    "Bindings",
    "Difference",
    "FileProblem",
    "InProcess",
    "Remote",
    "Result",
    "Runner",
    "Scenario",
    "ScenarioInvalid",
    "StepResult",
    "TargetUnreachable",
    "Transport",
    "UnknownReference",
    "check_control_answer",
    "check_target",
    "differences",
    "dump_yaml",
    "escape",
    "expand",
    "junit_xml",
    "known_operations",
    "load",
    "load_all",
    "loads",
    "match_value",
    "minimal_yaml",
    "step_name",
]
