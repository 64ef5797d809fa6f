"""Every shipped scenario (scenarios/<vendor>/*.yaml) replays green, in-process and served."""

from pathlib import Path

import pytest

from simulator.scenarios import Runner, expand, load

ROOT = Path(__file__).resolve().parents[2] / "scenarios"
FILES = expand([ROOT])
IDS = [p.relative_to(ROOT).as_posix() for p in FILES]


def test_every_vendor_has_five_stories_and_a_property():
    for vendor in ("omoto", "antcrm", "crmcom", "botw"):
        scenarios = [load(p) for p in FILES if p.parent.name == vendor]
        plain = [s for s in scenarios if not s.is_property]
        assert len(plain) >= 5, vendor
        assert any(s.is_property for s in scenarios), vendor


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_in_process(path, app):
    result = Runner(app=app).run(load(path))
    assert result.ok, result.report()
    assert len(result.steps) == len(result.scenario.steps)


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_served(path, served):
    result = Runner(target=served, max_examples=10).run(load(path))
    assert result.ok, result.report()
