"""AntCRM field formats pinned down for mutation testing (issue 15; docs/vendors/antcrm.md).

Each test names what a surviving mutant of ``simulator/vendors/antcrm/parsing.py`` changed
while every other test stayed green: the exact reason an item is ignored for a value of the
wrong type (AC-OUTCOME-1), empty entries skipped without dropping the entries after them
(AC-NORM-2), a blank ``websites`` string (AC-FMT-4), how emails compare (AC-NORM-1).
"""

import math

import pytest

from simulator.vendors.antcrm.parsing import Invalid, cus_fields, number, scalar

from ._support import ACME_SENDER, customer, find, item, load_acme, send_ok


def outcome_details(sim):
    """(action, result, id, detail) of each item of the last listener request."""
    found = sim.journal(vendor="antcrm")[-1]["outcomes"]
    return [(o["actionType"], o["result"], o["id"], o["detail"]) for o in found]


def test_a_value_of_the_wrong_type_is_ignored_with_its_exact_reason_AC_OUTCOME_1(client, sim):
    load_acme(sim)
    send_ok(
        client,
        item("add-contact", name="A", addresses=["x"]),
        item("add-contact", name="A", addresses="x"),
        item("add-contact", name="A", gender=7),
        item("add-contact", name="A", cusFields=["x"]),
        item("add-contact", name="A", cusFields=[{"name": "n", "value": {"k": 1}}]),
        item("add-contact", name="A", type=True),
        item("add-contact", name="A", im=["x"]),
        item("add-contact", name="A", permit="x"),
        item("add-contact", name="A", permit={"users": [1]}),
        item("add-contact", name="A", emails=[1]),
        item("add-note", body="n", model="deal", dealId=-1),
        item("add-note", body="n", model="x"),
        item("add-deal", name="D", closeDate="x"),
        item("add-deal", name="D", value=True),
        item("add-deal", name="D", contacts=["x"]),
        sender=ACME_SENDER,
    )
    reasons = [
        ("add-contact", "addresses entries must be objects"),
        ("add-contact", "addresses must be an array"),
        ("add-contact", "gender must be one of (0, 1, 2)"),
        ("add-contact", "cusFields entries must be objects"),
        ("add-contact", "cusFields values must be scalars"),
        ("add-contact", "type must be a number or a string"),
        ("add-contact", "im entries must be objects"),
        ("add-contact", "permit must be an object"),
        ("add-contact", "users entries must be strings"),
        ("add-contact", "emails entries must be objects or strings"),
        ("add-note", "dealId must be a string"),
        ("add-note", "model must be one of ('contact', 'deal')"),
        ("add-deal", "closeDate must be a number"),
        ("add-deal", "value must be a number or a string"),
        ("add-deal", "contacts entries must be objects"),
    ]
    assert outcome_details(sim) == [(a, "ignored", None, r) for a, r in reasons]
    assert sim.state("antcrm")["customers"] == []


def test_deal_id_zero_is_an_identifier_not_a_wrong_type(client, sim):
    """``dealId`` may be a non-negative integer: 0 is looked up as ``"0"``."""
    load_acme(sim)
    send_ok(client, item("add-note", body="n", model="deal", dealId=0), sender=ACME_SENDER)
    assert outcome_details(sim) == [("add-note", "ignored", None, "no deal has dealId '0'")]


def test_empty_entries_are_skipped_and_the_entries_after_them_kept_AC_NORM_2(client, sim):
    load_acme(sim)
    send_ok(
        client,
        item(
            "add-contact",
            name="A",
            emails=[None, "a@x.co"],
            addresses=[None, {"city": "Hue"}],
            im=[[], {"protocol": "Zalo", "value": "z"}],
            cusFields=[
                None,
                {"name": "a", "value": "b"},
                {"name": "c", "value": ""},
                {"name": "d", "value": 1},
            ],
            permit={"status": 4, "users": ["", "sales@acme.vn"]},
            websites="   ",
        ),
        item(
            "add-deal",
            name="D",
            stage="New",
            dealWith={"name": "C"},
            contacts=[None, {"name": "Q"}],
        ),
        sender=ACME_SENDER,
    )
    assert outcome_details(sim) == [
        ("add-contact", "created", "PID-1", None),
        ("add-deal", "created", "1", "deal 1 with customer PID-2 (created)"),
    ]
    pid1 = find(sim, "PID-1")
    assert pid1["emails"] == [{"type": None, "value": "a@x.co"}]
    assert pid1["addresses"] == [{"city": "Hue"}]
    assert pid1["im"] == [{"protocol": "Zalo", "value": "z"}]
    assert pid1["cusFields"] == [{"name": "a", "value": "b"}, {"name": "d", "value": 1}]
    assert pid1["permit"] == {"status": 4, "users": ["Sales@Acme.vn"]}
    assert pid1["websites"] == []  # a blank string is not provided (AC-FMT-4)
    [deal] = sim.state("antcrm")["deals"]
    assert deal["contacts"] == ["PID-3"]
    assert find(sim, "PID-3")["name"] == "Q"


def test_emails_compare_by_lower_case_not_upper_case_AC_NORM_1(client, sim):
    """``K`` (KELVIN SIGN) lowers to ``k``: the same address; ``ı`` (dotless i) upper-cases
    to ``I`` like ``i`` does, but is another letter: another address."""
    load_acme(
        sim,
        customers=[
            customer("PID-1", "contact", name="K", emails=[{"type": None, "value": "kate@x.co"}]),
            customer("PID-2", "contact", name="I", emails=[{"type": None, "value": "ilk@x.co"}]),
        ],
    )
    send_ok(
        client,
        item("add-contact", name="B", emails=["\u212aate@x.co"]),
        item("add-contact", name="C", emails=["\u0131lk@x.co"]),
        sender=ACME_SENDER,
    )
    assert [(r, i) for _, r, i, _ in outcome_details(sim)] == [
        ("duplicate", "PID-1"),
        ("created", "PID-3"),
    ]


def test_a_loaded_blank_email_is_no_key_and_matches_nothing_AC_NORM_2(client, sim):
    """The state schema lets an email value be blank: it loads and is never a match."""
    blank = [{"type": None, "value": " "}]
    load_acme(sim, customers=[customer("PID-1", "contact", name="K", emails=blank)])
    send_ok(
        client,
        item("add-contact", name="B", emails=["b@x.co"]),
        item("update-contact", customerId="PID-1", emails=["k@x.co"]),
        sender=ACME_SENDER,
    )
    assert [(r, i) for _, r, i, _ in outcome_details(sim)] == [
        ("created", "PID-2"),
        ("updated", "PID-1"),
    ]
    assert find(sim, "PID-1")["emails"] == [*blank, {"type": None, "value": "k@x.co"}]


# -- unit tests: the listener's body reader refuses numbers beyond a double (1e999) before
# -- the item is read, so only a direct call reaches the range check of these readers.
@pytest.mark.parametrize(
    ("read", "message"),
    [
        (lambda: cus_fields({"cusFields": [{"name": "n", "value": math.inf}]}), "cusFields"),
        (lambda: number({"closeDate": math.inf}, "closeDate"), "closeDate"),
        (lambda: scalar({"value": -math.inf}, "value"), "value"),
    ],
)
def test_a_number_beyond_a_double_is_out_of_range(read, message):
    with pytest.raises(Invalid) as raised:
        read()
    assert str(raised.value) == f"{message} is out of range"
