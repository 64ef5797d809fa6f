"""AntCRM update-contact: which pool ``type`` searches (issue 12 item 6, AC-UPD-1)."""

import pytest
from _antcrm import customer, customers, find, item, kinds, load, outcomes, post

# An Account and a Contact that share every key but their codes.
TWINS = [
    customer(
        "CID-1",
        name="Acme",
        passport="P-1",
        contactId="EXT-1",
        emails=[{"type": None, "value": "acme@x.co"}],
        phones=[{"type": None, "value": "0905 111"}],
    ),
    customer(
        "PID-2",
        name="acme ",
        passport="P-1",
        contactId="EXT-2",
        emails=[{"type": None, "value": "ACME@x.co"}],
        phones=[{"type": None, "value": "0905-111"}],
    ),
]
KEYS = [
    {"name": "ACME", "passport": "nope"},  # name comes first; it alone is no identifier
    {"emails": ["acme@x.co"]},
    {"phones": ["0905111"]},
    {"passport": "P-1"},
]


def titled(sim):
    return [c["customerId"] for c in customers(sim) if c["title"] == "T"]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize(
    ("type_", "target"), [(1, "CID-1"), ("1", "CID-1"), (0, "PID-2"), (2, "PID-2"), (None, "PID-2")]
)
def test_update_contact_type_picks_accounts_or_contacts_AC_UPD_1(client, sim, key, type_, target):
    load(sim, customers=TWINS)
    data = {**key, "title": "T", **({"type": type_} if type_ is not None else {})}
    post(client, item("update-contact", **data))
    assert titled(sim) == [target]
    assert kinds(sim) == [("CID-1", "account"), ("PID-2", "contact")]  # type never changes
    assert outcomes(sim) == [("updated", target)]


@pytest.mark.parametrize("type_", [0, 1, 2])
@pytest.mark.parametrize(
    ("key", "target"),
    [
        ({"customerId": "CID-1"}, "CID-1"),
        ({"customerId": "PID-2"}, "PID-2"),
        ({"contactId": "EXT-1"}, "CID-1"),
        ({"contactId": "EXT-2"}, "PID-2"),
    ],
)
def test_update_contact_a_code_names_its_record_whatever_type_says_AC_UPD_1(
    client, sim, type_, key, target
):
    load(sim, customers=TWINS)
    post(client, item("update-contact", **key, type=type_, title="T"))
    assert titled(sim) == [target]
    assert kinds(sim) == [("CID-1", "account"), ("PID-2", "contact")]


def test_update_contact_an_account_is_not_found_among_contacts_AC_UPD_1(client, sim):
    load(sim, customers=[TWINS[0]])
    post(client, item("update-contact", emails=["acme@x.co"], title="T"))
    assert titled(sim) == []
    [(result, record)] = outcomes(sim)
    assert (result, record) == ("ignored", None)
    entry = sim.journal(vendor="antcrm")[-1]["outcomes"][0]
    assert entry["detail"] == "no Contact has email ['acme@x.co']"
    post(client, item("update-contact", emails=["acme@x.co"], type=1, title="T"))
    assert titled(sim) == ["CID-1"]
    assert find(sim, "CID-1")["kind"] == "account"


def test_update_lead_ignores_type(client, sim):
    load(sim, customers=[customer("LID-1", name="Lan"), *TWINS])
    post(client, item("update-lead", passport="P-1", type=1, title="T"))
    assert titled(sim) == []
    post(client, item("update-lead", customerId="LID-1", type=1, title="T"))
    assert titled(sim) == ["LID-1"]
    assert find(sim, "LID-1")["kind"] == "lead"
