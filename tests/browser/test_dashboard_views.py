"""The dashboard's views read right at 1400×900 (issue 20): paths wrap between segments,
wide tables scroll on their own, every number says what it counts, and the namespace picker
shows the page's namespace from the start. Browser fixtures: test_dashboard.py."""

# ruff: noqa: F811  (fixtures imported from test_dashboard.py)
from __future__ import annotations

import re

from test_dashboard import browser, expect, open_ui, page, polled, rows, shoot, world  # noqa: F401

# Where each character of an element's text is drawn: the characters that end a line.
LINE_ENDS = """(el) => {
  const ends = [];
  let last = null, prev = "";
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.data.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect) continue;
      if (last !== null && rect.top > last + 2) ends.push(prev);
      last = rect.top;
      prev = node.data[i];
    }
  }
  return ends;
}"""

PENDING = "/crmapi/rest/v2/provisioning/generic_provisioning_requests/get_pending"


def test_journal_paths_wrap_between_segments_with_the_detail_open(page, world):
    world.vendor("GET", PENDING, params={"provider_alias": "acme-provisioning", "size": "10"})
    open_ui(page, world)
    row = rows(page, "journal").nth(0)
    row.click()
    expect(page.locator("#detail")).to_be_visible()
    cell = row.locator("td.path").first
    expect(cell).to_have_text(f"{PENDING}?provider_alias=acme-provisioning&size=10")
    ends = cell.evaluate(LINE_ENDS)
    assert ends, "the path fits on one line: the test proves nothing"
    assert all(c in "/?&=_" for c in ends), f"a line ends inside a word, after {ends}"
    # the operation wraps between its words, the detail's title between segments
    operation = row.locator("td").nth(4)
    expect(operation).to_have_text("crmcom.get_pending_provisioning_requests")
    assert all(c in "._" for c in operation.evaluate(LINE_ENDS))
    title = page.locator("#detail h2")
    expect(title).to_have_text(f"#1 GET {PENDING}")
    assert all(c in " /_" for c in title.evaluate(LINE_ENDS)), title.evaluate(LINE_ENDS)
    # and nothing of the row hides under the detail: status, duration and flags are in view
    assert page.locator(".split > .scroll").evaluate("(el) => el.scrollWidth <= el.clientWidth")
    expect(row.locator(".status")).to_be_in_viewport()
    shoot(page, "journal-long-path")


def test_a_wide_antcrm_customer_table_scrolls_on_its_own(page, world):
    customers = [
        {
            "customerId": f"PID-{i}",
            "org_id": "o1",
            "kind": "contact",
            "name": f"Customer number {i} with a rather long name",
            "lastname": "Featherstonehaugh-Cholmondeley",
            "emails": [{"value": f"customer.number.{i}@a-long-domain.example.com"}],
            "phones": [{"value": "+1 (555) 123-4567"}, {"value": "+44 20 7946 0958"}],
            "title": "Head of Customer Relationship Management",
            "bgInfo": "Met at the 2024 customer day; prefers calls in the morning",
            "source": "customer-day-2024-registration-form",
            "created_by": "ops@example.com",
        }
        for i in range(1, 4)
    ]
    world.control(
        "PUT",
        "/state/antcrm",
        json={"orgs": [{"org_id": "o1", "users": ["ops@example.com"]}], "customers": customers},
    )
    open_ui(page, world, "state")
    table = page.locator('[data-table="antcrm/customers"] table').first
    expect(table.locator("tbody tr")).to_have_count(3)
    state = page.locator("#state")
    # The view itself never scrolls sideways; the wide table does, right below itself.
    assert state.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    holder = table.locator("xpath=..")
    assert holder.evaluate("(el) => getComputedStyle(el).overflowX") == "auto"
    assert holder.evaluate("(el) => el.scrollWidth > el.clientWidth")
    # a list of values wraps between them, never inside a phone number or an address
    first = table.locator("tbody tr").first
    assert first.locator('td[data-col="emails"]').evaluate(LINE_ENDS) == []
    phones = first.locator('td[data-col="phones"]')
    expect(phones).to_have_text("+1 (555) 123-4567, +44 20 7946 0958")
    assert all(c in ", " for c in phones.evaluate(LINE_ENDS)), phones.evaluate(LINE_ENDS)
    last = table.locator("th").last
    last.scroll_into_view_if_needed()
    expect(last).to_be_in_viewport()
    shoot(page, "state-antcrm")


def test_header_fields_say_what_they_hold(page, world):
    world.botw(contacts=[{"contact_id": 1, "listing_id": "1", "email": "a@b.co"}])
    open_ui(page, world)
    placeholder = page.locator("#clock-at").get_attribute("placeholder") or ""
    assert not re.search(r"\d{4}-\d\d", placeholder), placeholder  # not a time of its own
    expect(page.locator("#clock-at")).to_have_attribute("aria-label", "time to freeze at")
    # no placeholder anywhere reads as a value that is set (a number, a time)
    placeholders = page.locator("[placeholder]").evaluate_all(
        "(els) => els.map((el) => el.placeholder)"
    )
    assert len(placeholders) >= 5, placeholders
    assert not [p for p in placeholders if re.match(r"^[\d+/-]", p)], placeholders
    advance = page.locator("#clock-advance")
    expect(advance).to_have_text(re.compile(r"^\s*s\s*Advance\s*$"))  # 3600 s, Advance
    expect(advance.locator(".unit")).to_be_visible()
    expect(page.locator("#count-state")).to_have_text("1 record")
    expect(page.locator("#count-state")).to_have_attribute("title", re.compile("records"))
    shoot(page, "header")


def test_the_namespace_picker_shows_the_namespace_before_any_answer(page, world):
    world.botw()
    # Namespaces never arrive: the picker still names the page's namespace.
    page.route("**/__sim/namespaces", lambda route: route.abort())
    page.goto(f"{world.url}/__sim/ui")
    picker = page.locator("#namespace")
    expect(picker).to_have_value(world.name)
    expect(picker.locator("option")).to_have_text([world.name])


def test_an_idle_page_fetches_the_state_and_the_journal_once(page, world):
    world.botw(contacts=[{"contact_id": 1, "listing_id": "1", "email": "a@b.co"}])
    answers, journal = [], []

    def seen(r):
        path = r.url.split("?")[0]
        if path.endswith("/__sim/state"):
            answers.append(r.status)
        if path.endswith("/__sim/journal"):
            journal.append(r.status)

    page.on("response", seen)
    open_ui(page, world, "state")
    contacts = page.locator('[data-table="botw/contacts"] tbody tr')
    expect(contacts).to_have_count(1)
    polled(page, 3)
    # one whole state, then only "not modified" (304, no body) while nothing is written
    assert answers[0] == 200 and len(answers) >= 3, answers
    assert answers[1:] == [304] * (len(answers) - 1), answers
    assert journal[0] == 200 and journal[1:] == [304] * (len(journal) - 1), journal
    # a write makes the next poll fetch it again
    assert world.create(email="b@c.co").status_code == 201
    expect(contacts).to_have_count(2)
    assert answers.count(200) == 2, answers
    expect(rows(page, "journal")).to_have_count(1)  # the write's entry arrived
    assert journal.count(200) == 2, journal
