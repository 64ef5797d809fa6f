"""The dashboard of a crmsim with a control token: it asks once, keeps the token in
sessionStorage and sends it on every call (headless Chromium, Playwright)."""

from __future__ import annotations

import pytest
import requests
from _serve import serving
from test_dashboard import browser, expect  # noqa: F401 (browser is a fixture)

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = "2024-06-01T12:00:00Z"


@pytest.fixture(scope="module")
def guarded():
    """``crmsim serve`` with ``CRMSIM_CONTROL_TOKEN`` set; its base URL."""
    with serving(env={"CRMSIM_CONTROL_TOKEN": TOKEN}) as (base, _proc):
        yield base


@pytest.fixture
def page(browser, guarded):  # noqa: F811
    context = browser.new_context()
    context.set_default_timeout(5000)
    page = context.new_page()
    page.dialogs = []
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"script errors: {errors}"


def answer(page, *answers):
    """Answer the page's questions with ``answers``, in order (then dismiss)."""
    queue = list(answers)

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)
        if queue:
            dialog.accept(queue.pop(0))
        else:
            dialog.dismiss()

    page.on("dialog", on_dialog)


def test_the_page_is_open_and_the_data_is_not(guarded):
    assert requests.get(f"{guarded}/__sim/ui", timeout=5).status_code == 200
    assert requests.get(f"{guarded}/__sim/ui/app.js", timeout=5).status_code == 200
    assert requests.get(f"{guarded}/__sim/journal", timeout=5).status_code == 401


def test_the_dashboard_asks_once_keeps_the_token_and_sends_it(page, guarded):
    ns = f"{guarded}/__ns/tok1"
    requests.put(f"{ns}/__sim/state/botw", json={"api_keys": {"K": ["1"]}}, headers=AUTH, timeout=5)
    answer(page, TOKEN)
    page.goto(f"{ns}/__sim/ui")
    expect(page.locator("#status")).to_contain_text("updated")
    assert len(page.dialogs) == 1 and "control token" in page.dialogs[0]
    assert page.evaluate("sessionStorage.getItem('crmsim.controlToken')") == TOKEN
    # polls go on with the token, and a vendor request shows up in the journal
    requests.post(
        f"{ns}/crm/1", data={"email": "a@example.com"}, headers={"Authorization": "Bearer K"}
    )
    expect(page.locator("#count-journal")).to_have_text("1")
    # a write from the page: JSON, same origin, with the token
    page.fill("#clock-at", NOW)
    page.click("#clock-freeze button")
    expect(page.locator("#clock-mode")).to_contain_text("frozen")
    clock = requests.get(f"{ns}/__sim/clock", headers=AUTH, timeout=5).json()
    assert clock == {"now": NOW, "frozen": True}
    # a reload in the same tab keeps the token: no second question
    page.reload()
    expect(page.locator("#status")).to_contain_text("updated")
    assert len(page.dialogs) == 1


def test_a_refused_token_is_asked_again(page, guarded):
    answer(page, "wrong", TOKEN)
    page.goto(f"{guarded}/__ns/tok2/__sim/ui")
    expect(page.locator("#status")).to_contain_text("updated")
    assert len(page.dialogs) == 2
    assert "refused" in page.dialogs[1]
    assert page.evaluate("sessionStorage.getItem('crmsim.controlToken')") == TOKEN


def test_without_an_answer_the_page_says_what_is_missing(page, guarded):
    answer(page)  # dismissed
    page.goto(f"{guarded}/__sim/ui")
    expect(page.locator("#status")).to_contain_text("needs its control token")
    assert len(page.dialogs) == 1
