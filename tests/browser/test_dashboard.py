"""The dashboard at /__sim/ui, end to end: a served crmsim, headless Chromium, Playwright.

Each test works in a namespace of its own on the shared ``served`` instance, sets it up
through the control plane and vendor routes, and asserts what the page shows. Every page
is only allowed to talk to the served instance (anything else fails the test), so the
dashboard is proven to work offline. Screenshots of each main view go to test-artifacts/.
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from pathlib import Path

import pytest
import requests

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
UI_FILES = REPO / "simulator" / "ui"
NOW = "2024-06-01T12:00:00Z"
KEY = {"Authorization": "Bearer K"}
INVITE_CUSTOMER = {
    "personalinfo": {
        "firstname": "bertram",
        "lastname": "wooster",
        "email": "bertie@jeeves.com",
        "mobileno": "9835132376",
    }
}


# -- serving (no browser needed) ------------------------------------------------------------
def test_page_and_assets_come_from_the_package(served):
    page = requests.get(f"{served}/__sim/ui", timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    # Every script and style sheet is one of the package's files, under /__sim/ui/.
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert {r for r in refs if not r.startswith("data:")} == {
        "/__sim/ui/app.css",
        "/__sim/ui/app.js",
    }
    assert 'data-namespace="default"' in page.text
    for name, kind in (("app.js", "text/javascript"), ("app.css", "text/css")):
        asset = requests.get(f"{served}/__sim/ui/{name}", timeout=5)
        assert asset.status_code == 200
        assert asset.headers["Content-Type"].startswith(kind)
        assert asset.content == (UI_FILES / name).read_bytes()
    assert "http://" not in (UI_FILES / "app.js").read_text()
    assert "https://" not in (UI_FILES / "app.js").read_text()


def test_openapi_describes_the_dashboard_as_html(served):
    paths = requests.get(f"{served}/__sim/openapi.json", timeout=5).json()["paths"]
    assert list(paths["/__sim/ui"]["get"]["responses"]["200"]["content"]) == ["text/html"]
    assert list(paths["/__sim/ui/{asset}"]["get"]["responses"]["200"]["content"]) == ["text/*"]


def test_page_opened_in_a_namespace_knows_it(served):
    page = requests.get(f"{served}/__ns/ui-t1/__sim/ui", timeout=5)
    assert page.status_code == 200
    assert 'data-namespace="ui-t1"' in page.text and 'data-root=""' in page.text


@pytest.mark.parametrize("asset", ["nope.js", "index.html", "../dashboard.py", "..%2Fapp.py"])
def test_unknown_assets_are_404_problems(served, asset):
    r = requests.get(f"{served}/__sim/ui/{asset}", timeout=5)
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/problem+json"


def test_every_ui_file_is_package_data():
    """A non-editable install carries what the dashboard serves."""
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["simulator"]
    files = sorted(p.name for p in UI_FILES.iterdir() if p.is_file())
    assert {"index.html", "app.js", "app.css"} <= set(files)
    for name in files:
        assert any(Path("ui", name).match(p) for p in patterns), name


# -- the browser ----------------------------------------------------------------------------
def missing(reason):
    """Skip, except on CI (CI=true), where .ci/run installs what these tests need."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI installs it in .ci/run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright import sync_api
    except ImportError:
        missing("playwright is not installed: .venv/bin/pip install -e '.[dev]'")
    if not shutil.which(CHROMIUM):
        missing(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()  # and leaving sync_playwright stops its driver process


class World:
    """One namespace of the served instance, driven over HTTP."""

    def __init__(self, base, name):
        self.base = base
        self.name = name
        self.url = f"{base}/__ns/{name}"
        requests.delete(f"{self.url}/__sim", timeout=5)

    def control(self, method, path, **kw):
        r = requests.request(method, f"{self.url}/__sim{path}", timeout=5, **kw)
        assert r.status_code < 300, r.text
        return r.json()

    def vendor(self, method, path, **kw):
        return requests.request(method, f"{self.url}{path}", timeout=5, **kw)

    def botw(self, listings=("1",), contacts=()):
        self.control(
            "PUT", "/state/botw", json={"api_keys": {"K": list(listings)}, "contacts": contacts}
        )

    def create(self, listing="1", **fields):
        return self.vendor("POST", f"/crm/{listing}", data=fields, headers=KEY)


@pytest.fixture
def world(served, request):
    name = "ui-" + re.sub(r"[^A-Za-z0-9_.-]", "-", request.node.name)[:60]
    return World(served, name)


@pytest.fixture
def page(browser, served):
    """A page that may load nothing but the served instance; it must raise no script error."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(5000)
    outside, errors = [], []

    def only_the_simulator(route):
        if route.request.url.startswith(served + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_simulator)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not outside, f"the dashboard reached outside the simulator: {outside}"
    assert not errors, f"script errors: {errors}"


def open_ui(page, world, tab="journal"):
    page.goto(f"{world.url}/__sim/ui")
    expect(page.locator("#status")).to_contain_text("updated")
    if tab != "journal":
        page.click(f"[data-tab={tab}]")
    return page


def shoot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"))


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def polled(page, rounds=2):
    """Wait (with the context's deadline) until the page has finished ``rounds`` more polls:
    each poll's last request is GET /__sim/namespaces. Two, so that one whole poll started
    after the caller's action."""
    for _ in range(rounds):
        with page.expect_response(lambda r: r.url.split("?")[0].endswith("/__sim/namespaces")):
            pass


def rows(page, table):
    return page.locator(f"#{table} tbody tr")


# -- journal --------------------------------------------------------------------------------
def test_journal_rows_arrive_live_newest_first(page, world):
    world.botw(listings=["1", "2"])
    open_ui(page, world)
    expect(page.locator("#journal-empty")).to_be_visible()

    assert world.create("1", email="a@b.co").status_code == 201
    assert world.create("2", email="c@d.co").status_code == 201
    assert world.vendor("GET", "/crm/9", params={"email": "a@b.co"}).status_code == 403

    journal = rows(page, "journal")
    expect(journal).to_have_count(3)  # arrived without a reload
    expect(page.locator("#journal-empty")).to_be_hidden()
    expect(page.locator("#count-journal")).to_have_text("3")
    clock, ms = re.compile(r"^\d\d:\d\d:\d\d(\.\d{1,3})?$"), re.compile(r"^\d+\.\d$")
    newest = ["3", clock, "GET", "/crm/9?email=a@b.co", "botw.search_contacts", "403", ms, ""]
    expect(journal.nth(0).locator("td")).to_have_text(newest)
    expect(journal.nth(1).locator("td").nth(3)).to_have_text("/crm/2")
    expect(journal.nth(2).locator("td").nth(5)).to_have_text("201")
    expect(journal.nth(2).locator("td").nth(4)).to_have_text("botw.create_contact")

    page.fill("#journal-search", "/crm/2")
    expect(journal).to_have_count(1)
    page.fill("#journal-search", "")
    expect(journal).to_have_count(3)
    shoot(page, "journal")


def test_a_click_opens_request_and_response_with_violations_highlighted(page, world):
    world.botw()
    assert world.create(email="not-an-email", first_name="Ann").status_code == 400
    assert world.create(email="a@b.co").status_code == 201
    open_ui(page, world)

    journal = rows(page, "journal")
    expect(journal).to_have_count(2)
    expect(journal.nth(1).locator(".flags")).to_have_text("1 violation")
    expect(journal.nth(0).locator(".flags")).to_have_text("")
    expect(page.locator("#detail")).to_be_hidden()

    journal.nth(1).click()
    detail = page.locator("#detail")
    expect(detail).to_be_visible()
    expect(journal.nth(1)).to_have_class("selected")
    expect(detail.locator("h2")).to_have_text("#1 POST /crm/1")
    expect(detail.locator(".violations li")).to_have_count(1)
    expect(detail.locator(".violations li")).to_contain_text("/email")
    expect(detail.locator(".violations li")).to_contain_text("expected an email address")
    # The request body, formatted, with the member the pointer names highlighted.
    marked = detail.locator(".jnode.violation")
    expect(marked).to_have_count(1)
    expect(marked).to_have_attribute("data-pointer", "/email")
    expect(marked).to_have_text('"email": "not-an-email"')
    expect(detail.locator('[data-pointer="/first_name"]')).not_to_have_class(
        re.compile("violation")
    )
    # The response, formatted.
    response_body = detail.locator("pre.json").last
    expect(response_body).to_contain_text('"message": "Invalid email address."')
    expect(response_body).to_contain_text('"status": "error"')
    shoot(page, "journal-detail")

    journal.nth(0).click()  # another entry replaces it
    expect(detail.locator("h2")).to_have_text("#2 POST /crm/1")
    expect(detail.locator(".violations")).to_have_count(0)
    detail.locator("button.close").click()
    expect(detail).to_be_hidden()


# -- state ----------------------------------------------------------------------------------
def test_antcrm_item_outcomes_show_in_the_journal_AC_OUTCOME_1(page, world):
    world.control(
        "PUT",
        "/state/antcrm",
        json={
            "orgs": [{"org_id": "o1", "users": ["ops@example.com"]}],
            "listeners": [{"listener_id": "L1", "org_id": "o1"}],
        },
    )
    items = [
        {"actionType": "add-contact", "data": {"name": "Huy", "emails": ["huy@x.co"]}},
        {"actionType": "add-contact", "data": {"name": "Huy", "emails": ["HUY@x.co"]}},
        {"actionType": "update-deal", "data": {"name": "D"}},
    ]
    r = world.vendor(
        "POST",
        "/antcrm/webhook/listener/L1",
        json={"senderUser": "ops@example.com", "data": items},
    )
    assert r.json() == {"success": True}
    open_ui(page, world)
    row = rows(page, "journal").nth(0)
    expect(row.locator(".flags .badge.outcomes")).to_have_text(
        "1 created · 1 duplicate · 1 ignored"
    )
    expect(row.locator(".flags")).to_contain_text("1 violation")  # update-deal is refused
    row.click()
    detail = page.locator("#detail")
    expect(detail.locator("section.outcomes h3")).to_have_text(
        "Items (1 created · 1 duplicate · 1 ignored)"
    )
    lines = detail.locator("table.outcomes tr[data-item]")
    expect(lines).to_have_count(3)
    expect(lines.nth(0).locator("td")).to_have_text(["0", "add-contact", "created", "PID-1", ""])
    expect(lines.nth(1).locator("td").nth(3)).to_have_text("PID-1")
    expect(lines.nth(2).locator("td")).to_have_text(
        ["2", "update-deal", "ignored", "—", "unknown actionType 'update-deal'"]
    )
    expect(lines.nth(2)).to_have_class("result-ignored")
    shoot(page, "journal-outcomes")


def contact(contact_id, listing, email, first_name):
    return {
        "contact_id": contact_id,
        "listing_id": listing,
        "email": email,
        "first_name": first_name,
    }


def test_state_shows_each_vendor_as_tables_with_search(page, world):
    world.botw(
        listings=["123", "456"],
        contacts=[
            contact(1, "123", "john@example.com", "John"),
            contact(2, "456", "ann@example.com", "Ann"),
            contact(3, "123", "bob@example.com", "Bob"),
        ],
    )
    world.control(
        "PUT", "/state/omoto", json={"campaigns": [{"campaign_id": "154", "api_key": "KEY-A"}]}
    )
    open_ui(page, world, "state")

    botw = page.locator('[data-vendor="botw"]')
    contacts = botw.locator('[data-table="botw/contacts"]')
    # BOTW contacts per listing.
    expect(contacts.locator("h4")).to_have_text(["listing 123 2", "listing 456 1"])
    expect(contacts.locator("tbody tr")).to_have_count(3)
    expect(contacts.locator("table").first.locator('td[data-col="email"]')).to_have_text(
        ["john@example.com", "bob@example.com"]
    )
    expect(botw.locator('[data-table="botw/api_keys"] tbody tr')).to_have_text(["K123, 456"])
    omoto = page.locator('[data-vendor="omoto"]')
    expect(omoto.locator('[data-table="omoto/campaigns"] td[data-col="api_key"]')).to_have_text(
        ["KEY-A"]
    )
    expect(page.locator("#count-state")).to_have_text("4 records")

    page.fill("#state-search", "ann@")
    expect(contacts.locator("tbody tr")).to_have_count(1)
    expect(contacts.locator("h4")).to_have_text(["listing 456 1"])
    expect(contacts.locator("h3")).to_contain_text("1 of 3")
    expect(omoto.locator('[data-table="omoto/campaigns"]')).to_contain_text("no match")
    page.fill("#state-search", "")
    page.select_option("#state-vendor", "botw")
    expect(page.locator("[data-vendor]")).to_have_count(1)
    page.select_option("#state-vendor", "")
    shoot(page, "state")

    # A new contact shows up without a reload.
    assert world.create("456", email="new@example.com").status_code == 201
    expect(contacts.locator("tbody tr")).to_have_count(4)
    expect(contacts).to_contain_text("new@example.com")


def test_antcrm_customers_show_company_history_and_notes(page, world):
    world.control(
        "PUT",
        "/state/antcrm",
        json={
            "orgs": [{"org_id": "o1", "users": ["ops@example.com"]}],
            "customers": [
                {"customerId": "CID-1", "org_id": "o1", "kind": "account", "name": "Acme Corp"},
                {
                    "customerId": "PID-1",
                    "org_id": "o1",
                    "kind": "contact",
                    "name": "Huy",
                    "companyId": "CID-1",
                    "emails": [{"value": "huy@example.com"}],
                    "history": [{"type": "created", "at": NOW, "text": "Created by hand"}],
                    "notes": [{"body": "Called back", "at": NOW}],
                },
            ],
        },
    )
    open_ui(page, world, "state")
    customers = page.locator('[data-table="antcrm/customers"]')
    person = customers.locator("tbody tr").nth(1)
    expect(person.locator('[data-col="company"]')).to_have_text("Acme Corp · CID-1")
    expect(person.locator('[data-col="emails"]')).to_have_text("huy@example.com")
    history = person.locator('[data-col="history"] details')
    expect(history.locator("summary")).to_have_text("1 entry")
    history.locator("summary").click()
    expect(history).to_contain_text("Created by hand")
    person.locator('[data-col="notes"] summary').click()
    expect(person.locator('[data-col="notes"]')).to_contain_text("Called back")
    # An open entry stays open while the page polls.
    polled(page)
    expect(history).to_have_attribute("open", "")


# -- outbox ---------------------------------------------------------------------------------
def test_outbox_lists_what_the_vendors_sent(page, world):
    world.control(
        "PUT", "/state/omoto", json={"campaigns": [{"campaign_id": "154", "api_key": "KEY-A"}]}
    )
    open_ui(page, world, "outbox")
    expect(page.locator("#outbox-empty")).to_be_visible()

    r = world.vendor("POST", "/omoto/receivecustomerinfo.htm?key=KEY-A", json=[INVITE_CUSTOMER])
    assert r.json() == {"status": "success"}

    outbox = rows(page, "outbox")
    expect(outbox).to_have_count(1)
    expect(outbox.nth(0).locator("td").nth(2)).to_have_text("omoto")
    expect(outbox.nth(0).locator("td").nth(3)).to_have_text("survey-invite")
    expect(outbox.nth(0).locator("td").nth(4)).to_have_text("bertie@jeeves.com, 9835132376")
    expect(outbox.nth(0).locator("td").nth(5)).to_have_text("survey of campaign 154")
    expect(page.locator("#count-outbox")).to_have_text("1")
    outbox.nth(0).locator("summary").click()
    expect(outbox.nth(0)).to_contain_text('"lastname": "wooster"')
    shoot(page, "outbox")

    page.click("#outbox-clear")
    expect(outbox).to_have_count(0)
    assert world.control("GET", "/outbox")["count"] == 0


# -- faults ---------------------------------------------------------------------------------
def test_drawn_delays_and_broken_answers_are_described(page, world):
    world.control(
        "POST", "/faults", json={"vendor": "botw", "delay_ms": {"uniform": {"min": 10, "max": 20}}}
    )
    world.control(
        "POST",
        "/faults",
        json={"status": 201, "malformed": True, "dribble": {"chunks": 3, "total_ms": 900}},
    )
    world.control(
        "POST",
        "/faults",
        json={"truncate": True, "delay_ms": {"lognormal": {"median": 120, "sigma": 0.5}}},
    )
    open_ui(page, world, "faults")
    faults = rows(page, "faults")
    expect(faults).to_have_count(3)
    expect(faults.nth(0).locator("td").nth(2)).to_have_text("delays 10–20 ms (uniform)")
    expect(faults.nth(1).locator("td").nth(2)).to_have_text(
        "answers 201, malformed body, body dribbled in 3 pieces over 900 ms"
    )
    expect(faults.nth(2).locator("td").nth(2)).to_have_text(
        "delays ~120 ms (lognormal, sigma 0.5), body cut short"
    )


def test_fault_rules_can_be_added_and_removed(page, world):
    world.botw()
    open_ui(page, world, "faults")
    expect(page.locator("#faults-empty")).to_be_visible()

    form = page.locator("#fault-form")
    form.locator("[name=vendor]").select_option("botw")
    form.locator("[name=method]").select_option("POST")
    form.locator("[name=status]").fill("503")
    form.locator("[name=when]").select_option("times")
    form.locator("[name=n]").fill("1")
    form.locator("button[type=submit]").click()

    faults = rows(page, "faults")
    expect(faults).to_have_count(1)
    expect(faults.nth(0).locator("td")).to_have_text(
        ["1", "vendor botw, method POST", "answers 503", "the first 1 match", "0", "0", "Remove"]
    )
    [rule] = world.control("GET", "/faults")["faults"]
    assert {k: rule[k] for k in ("vendor", "method", "status", "times")} == {
        "vendor": "botw",
        "method": "POST",
        "status": 503,
        "times": 1,
    }

    assert world.create(email="a@b.co").status_code == 503
    expect(faults.nth(0).locator("td").nth(5)).to_have_text("1")  # fired
    page.click("[data-tab=journal]")
    expect(rows(page, "journal").nth(0).locator(".flags")).to_have_text("fault 1")
    expect(rows(page, "journal").nth(0).locator(".status")).to_have_text("503")
    page.click("[data-tab=faults]")

    # A rule the control plane refuses: its problem is shown, nothing is added.
    form.locator("[name=when]").select_option("probability")
    form.locator("[name=n]").fill("2")
    form.locator("button[type=submit]").click()
    expect(page.locator("#fault-error")).to_contain_text("/probability")
    expect(faults).to_have_count(1)
    shoot(page, "faults")

    faults.nth(0).get_by_role("button", name="Remove").click()
    expect(faults).to_have_count(0)
    assert world.control("GET", "/faults")["faults"] == []


# -- clock, reset, namespaces ---------------------------------------------------------------
def test_clock_can_be_frozen_advanced_and_released(page, world):
    open_ui(page, world)
    expect(page.locator("#clock-mode")).to_have_text("running")
    expect(page.locator("#clock-release")).to_be_disabled()

    page.fill("#clock-at", NOW)
    page.click("#clock-freeze button")
    expect(page.locator("#clock-now")).to_have_text("2024-06-01 12:00:00Z")
    expect(page.locator("#clock-mode")).to_have_text("frozen")
    assert world.control("GET", "/clock") == {"now": NOW, "frozen": True}

    page.fill("#clock-seconds", "5400")
    page.click("#clock-advance button")
    expect(page.locator("#clock-now")).to_have_text("2024-06-01 13:30:00Z")
    assert world.control("GET", "/clock")["now"] == "2024-06-01T13:30:00Z"
    shoot(page, "clock")

    page.click("#clock-release")
    expect(page.locator("#clock-mode")).to_have_text("running")
    assert world.control("GET", "/clock")["frozen"] is False

    page.fill("#clock-at", "yesterday")
    page.click("#clock-freeze button")
    expect(page.locator("#message")).to_contain_text("clock frozen at yesterday failed")
    expect(page.locator("#message")).to_contain_text("/now")
    polled(page)  # the error stays while the page polls
    expect(page.locator("#message")).to_contain_text("/now")
    expect(page.locator("#clock-mode")).to_have_text("running")


def test_reset_empties_the_namespace_after_confirmation(page, world):
    world.botw()
    assert world.create(email="a@b.co").status_code == 201
    open_ui(page, world)
    expect(rows(page, "journal")).to_have_count(1)
    expect(page.locator("#count-state")).to_have_text("1 record")

    resets = []
    page.on("request", lambda r: r.method == "POST" and resets.append(r.url))
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#reset")
    polled(page)
    assert resets == []  # dismissed: nothing was sent
    expect(rows(page, "journal")).to_have_count(1)

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#reset")
    expect(rows(page, "journal")).to_have_count(0)
    expect(page.locator("#count-state")).to_have_text("0 records")
    expect(page.locator("#message")).to_have_text(f"namespace {world.name} reset")
    assert world.control("GET", "/state/botw")["contacts"] == []
    assert world.control("GET", "/journal")["count"] == 0


def test_namespace_picker_switches_worlds(page, world, served):
    other = World(served, world.name + "-b")
    world.botw()
    other.botw()
    assert world.create(email="mine@example.com").status_code == 201
    assert other.create(email="theirs@example.com").status_code == 201
    assert other.create(email="theirs2@example.com").status_code == 201
    open_ui(page, world)

    picker = page.locator("#namespace")
    expect(picker).to_have_value(world.name)
    assert {world.name, other.name, "default"} <= set(picker.locator("option").all_inner_texts())
    expect(rows(page, "journal")).to_have_count(1)

    picker.select_option(other.name)
    expect(rows(page, "journal")).to_have_count(2)
    assert page.url == f"{served}/__ns/{other.name}/__sim/ui"
    page.click("[data-tab=state]")
    expect(page.locator('[data-table="botw/contacts"]')).to_contain_text("theirs@example.com")

    picker.select_option("default")
    assert page.url == f"{served}/__sim/ui#state"  # the tab stays
    expect(page.locator("#state")).not_to_contain_text("theirs")
