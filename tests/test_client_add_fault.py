"""add_fault takes the rule as a dict (as a scenario's faults: holds it), as keyword
arguments, or both, on Client and AsyncClient alike (one implementation)."""

import asyncio

import pytest

from simulator.client import AsyncClient, SimulatorProblem

RULE = {"vendor": "botw", "operation": "botw.search_contacts", "status": 503}


def test_a_dict_a_keyword_rule_and_both(crmsim):
    by_dict = crmsim.add_fault(RULE)
    by_keywords = crmsim.add_fault(**RULE)
    both = crmsim.add_fault(RULE, status=502, times=1)  # the keywords win
    faults = {f["id"]: f for f in crmsim.faults()}
    assert faults[by_dict["id"]]["status"] == faults[by_keywords["id"]]["status"] == 503
    assert (faults[both["id"]]["status"], faults[both["id"]]["times"]) == (502, 1)


def test_a_bad_rule_in_a_dict_is_the_control_planes_problem(crmsim):
    with pytest.raises(SimulatorProblem) as refused:
        crmsim.add_fault({"vendor": "botw", "stauts": 503})
    assert refused.value.status == 400


def test_the_async_client_takes_a_dict_too(crmsim):
    async def add():
        async with AsyncClient(crmsim.server, crmsim.namespace) as sim:
            added = await sim.add_fault(RULE, times=2)
            return added, await sim.faults()

    added, faults = asyncio.run(add())
    assert [(f["id"], f["status"], f["times"]) for f in faults] == [(added["id"], 503, 2)]
