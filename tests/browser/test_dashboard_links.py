"""A QA engineer can share a link to a journal entry, a namespace or a tab: the address
names them (namespace in the path, tab and entry in the hash), the page restores what an
address names, and back/forward walk through what was shown (docs/dashboard.md, "Links").
Browser fixtures: test_dashboard.py."""

# ruff: noqa: F811  (fixtures imported from test_dashboard.py)
from __future__ import annotations

from test_dashboard import World, browser, expect, page, rows, world  # noqa: F401


def entries(world, n):
    world.botw()
    for i in range(n):
        assert world.create(email=f"u{i}@example.com").status_code == 201


def test_a_link_opens_the_entry_it_names(page, world):
    entries(world, 3)
    page.goto(f"{world.url}/__sim/ui#journal/2")
    detail = page.locator("#detail")
    expect(detail.locator("h2")).to_have_text("#2 POST /crm/1")
    expect(rows(page, "journal").nth(1)).to_have_class("selected")
    page.goto(f"{world.url}/__sim/ui#state")
    expect(page.locator("[data-tab=state]")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#tab-state")).to_be_visible()
    expect(page.locator('[data-table="botw/contacts"] tbody tr')).to_have_count(3)


def test_choices_change_the_address_and_back_and_forward_restore_them(page, world):
    entries(world, 2)
    base = f"{world.url}/__sim/ui"
    page.goto(base)
    journal = rows(page, "journal")
    expect(journal).to_have_count(2)
    journal.nth(1).click()  # entry 1
    expect(page).to_have_url(f"{base}#journal/1")
    page.click("[data-tab=faults]")
    expect(page).to_have_url(f"{base}#faults")

    page.go_back()
    expect(page).to_have_url(f"{base}#journal/1")
    expect(page.locator("#tab-journal")).to_be_visible()
    expect(page.locator("#detail h2")).to_have_text("#1 POST /crm/1")
    page.go_back()
    expect(page).to_have_url(base)
    expect(page.locator("#detail")).to_be_hidden()
    page.go_forward()
    expect(page.locator("#detail h2")).to_have_text("#1 POST /crm/1")
    page.locator("#detail button.close").click()
    expect(page).to_have_url(base)


def test_back_returns_to_the_namespace_before(page, world, served):
    other = World(served, world.name + "-b")
    entries(world, 1)
    entries(other, 2)
    page.goto(f"{world.url}/__sim/ui#state")
    expect(page.locator('[data-table="botw/contacts"] tbody tr')).to_have_count(1)
    page.locator("#namespace").select_option(other.name)
    expect(page).to_have_url(f"{other.url}/__sim/ui#state")  # the tab stays
    expect(page.locator('[data-table="botw/contacts"] tbody tr')).to_have_count(2)
    page.go_back()
    expect(page.locator("#namespace")).to_have_value(world.name)
    expect(page.locator('[data-table="botw/contacts"] tbody tr')).to_have_count(1)
    page.click("[data-tab=journal]")
    expect(rows(page, "journal")).to_have_count(1)
