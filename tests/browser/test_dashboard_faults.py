"""The fault form offers the operations of the OpenAPI document, the chosen vendor's only
(issue 20). Browser fixtures: test_dashboard.py."""

# ruff: noqa: F811  (fixtures imported from test_dashboard.py)
from __future__ import annotations

import requests
from test_dashboard import browser, expect, open_ui, page, shoot, world  # noqa: F401


def operations(served, vendor=""):
    paths = requests.get(f"{served}/__sim/openapi.json", timeout=5).json()["paths"]
    ids = {op.get("operationId", "") for ops in paths.values() for op in ops.values()}
    return sorted(i for i in ids if i and not i.startswith("sim.") and i.startswith(vendor))


def test_the_operation_field_offers_the_chosen_vendors_operations(page, world, served):
    world.botw()
    open_ui(page, world, "faults")
    form = page.locator("#fault-form")
    field = form.locator("[name=operation]")
    offered = page.locator(f"datalist#{field.get_attribute('list')} option")
    every = operations(served)
    assert {i.split(".")[0] for i in every} == {"antcrm", "botw", "crmcom", "omoto"}
    expect(offered).to_have_count(len(every))
    form.locator("[name=vendor]").select_option("botw")
    botw = operations(served, "botw.")
    assert "botw.create_contact" in botw
    expect(offered).to_have_count(len(botw))
    assert [o.get_attribute("value") for o in offered.all()] == botw
    form.locator("[name=vendor]").select_option("crmcom")
    expect(offered).to_have_count(len(operations(served, "crmcom.")))

    # an operation picked from the list is what the rule selects
    form.locator("[name=vendor]").select_option("botw")
    field.fill("botw.create_contact")
    form.locator("button[type=submit]").click()
    expect(page.locator("#faults tbody tr")).to_have_count(1)
    [rule] = world.control("GET", "/faults")["faults"]
    assert (rule["vendor"], rule["operation"]) == ("botw", "botw.create_contact")
    # another vendor clears an operation that is not its own
    form.locator("[name=vendor]").select_option("omoto")
    expect(field).to_have_value("")
    shoot(page, "faults-operations")
