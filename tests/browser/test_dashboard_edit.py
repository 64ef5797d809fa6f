"""The dashboard edits state (issue 20): a state file loads into the namespace (PUT
/__sim/state, Prefer: return=minimal), and one record is edited as JSON (its vendor's
part put back with the record replaced); refusals show each error at its pointer.
Browser fixtures: test_dashboard.py."""

# ruff: noqa: F811  (fixtures imported from test_dashboard.py)
from __future__ import annotations

import json

from test_dashboard import browser, expect, open_ui, page, shoot, world  # noqa: F401


def contact(contact_id, email):
    return {"contact_id": contact_id, "listing_id": "1", "email": email}


def test_a_state_file_loads_without_its_echo(page, world, tmp_path):
    good = tmp_path / "state.json"
    state = {"botw": {"api_keys": {"K": ["1"]}, "contacts": [contact(1, "file@example.com")]}}
    good.write_text(json.dumps(state))
    open_ui(page, world, "state")
    puts = []
    page.on(
        "response",
        lambda r: (
            r.request.method == "PUT"
            and puts.append((r.url, r.request.headers.get("prefer"), r.status))
        ),
    )
    page.once("dialog", lambda dialog: dialog.accept())
    page.set_input_files("#state-file", str(good))
    rows = page.locator('[data-table="botw/contacts"] tbody tr')
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("file@example.com")
    expect(page.locator("#message")).to_have_text("state loaded from state.json")
    assert puts == [(f"{world.url}/__sim/state", "return=minimal", 204)]
    assert world.control("GET", "/state/botw")["contacts"][0]["email"] == "file@example.com"

    # A file the control plane refuses: nothing changes, each error at its pointer.
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"botw": {"contacts": [{"contact_id": "x", "listing_id": "1"}]}}))
    page.once("dialog", lambda dialog: dialog.accept())
    page.set_input_files("#state-file", str(bad))
    box = page.locator("#state-error")
    expect(box).to_be_visible()
    expect(box.locator("li code")).to_have_text(["/botw/contacts/0/contact_id"])
    expect(box.locator("li")).to_contain_text(["integer"])
    expect(rows).to_contain_text("file@example.com")
    shoot(page, "state-load-refused")

    # Cancelled at the question: nothing is sent.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.set_input_files("#state-file", str(bad))
    expect(page.locator("#state-file")).to_have_value("")
    assert len(puts) == 2


def test_one_record_is_edited_as_json(page, world):
    world.botw(contacts=[contact(1, "one@example.com"), contact(2, "two@example.com")])
    open_ui(page, world, "state")
    table = page.locator('[data-table="botw/contacts"]')
    table.locator("tbody tr").nth(1).locator("button.edit").click()
    editor = page.locator("#editor")
    expect(editor).to_be_visible()
    text = page.locator("#editor-text")
    assert json.loads(text.input_value())["email"] == "two@example.com"
    shoot(page, "state-edit")

    # refused: the error points into the record
    text.fill(json.dumps({"contact_id": "two", "listing_id": "1"}))
    editor.get_by_role("button", name="Save").click()
    errors = page.locator("#editor-errors")
    expect(errors.locator("li code")).to_have_text(["/contact_id"])
    text.fill("{not json")
    editor.get_by_role("button", name="Save").click()
    expect(errors).to_contain_text("not JSON")

    text.fill(json.dumps({"contact_id": 2, "listing_id": "1", "email": "new@example.com"}))
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_be_hidden()
    expect(table.locator('td[data-col="email"]')).to_have_text(
        ["one@example.com", "new@example.com"]
    )
    contacts = world.control("GET", "/state/botw")["contacts"]
    assert [c["email"] for c in contacts] == ["one@example.com", "new@example.com"]
