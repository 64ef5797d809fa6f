"""The dashboard marks journal entries whose answer differs from the real vendor's under
``crmsim serve --shadow`` (docs/drift.md): a second crmsim stands in for the real vendor, a
fault rule there answering creates differently. Browser fixtures: test_dashboard.py."""

from __future__ import annotations

import re

import pytest
import requests
from _serve import serving
from helpers import wait_until
from test_dashboard import browser, expect, open_ui, page, rows, world  # noqa: F401


@pytest.fixture(scope="module")
def served():
    """A ``crmsim serve --shadow botw=<stand-in>``; the stand-in answers creates 409."""
    with serving() as (real, _):
        state = requests.put(real + "/__sim/state/botw", json={"api_keys": {"K": ["1"]}})
        assert state.status_code == 200
        rule = {"vendor": "botw", "operation": "botw.create_contact", "status": 409}
        assert requests.post(real + "/__sim/faults", json=rule, timeout=5).status_code == 201
        with serving("--threads", "8", "--shadow", f"botw={real}") as (base, _):
            yield base


def test_an_entry_with_drift_is_marked_and_one_without_is_not(page, world):  # noqa: F811
    world.botw()
    assert world.create(email="a@b.co").status_code == 201  # drift: the stand-in says 409
    nobody = world.vendor("GET", "/crm/1?email=x@y.zz", headers={"Authorization": "Bearer K"})
    assert nobody.status_code == 404  # on both sides: no drift

    def compared():
        entries = world.control("GET", "/journal")["entries"]
        return all(e["shadow"] == "compared" for e in entries) and len(entries) == 2

    wait_until(compared, timeout=20, what="both shadow comparisons")
    open_ui(page, world)
    journal = rows(page, "journal")  # newest first
    expect(journal).to_have_count(2)
    marker = journal.nth(1).locator(".flags .drift")
    expect(marker).to_have_text(re.compile(r"^drift \d+$"))
    expect(marker).to_have_attribute("title", re.compile(r"^status /status: the statuses differ"))
    expect(journal.nth(0).locator(".flags")).to_have_text("")
