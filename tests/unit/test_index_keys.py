"""The vendors' index keys as single strings (docs/serving.md, "Memory per record"): two
lookups share a key only when every part is equal, and a value that is not a string never
meets a stored one."""

import pytest

from simulator.vendors.antcrm.models import _customer_entries, key_group
from simulator.vendors.crmcom.models import value_key
from simulator.vendors.crmcom.parsing import IDENTIFIER_FIELDS


@pytest.mark.parametrize(
    "one, other",
    [
        (("email", "a:b", "customer", "c"), ("email", "a", "customer", "b:c")),
        (("email", "acme", "customer", "x"), ("phone", "acme", "customer", "x")),
        (("email", "acme", "customer", "x"), ("email", "acme", "lead", "x")),
        (("email", "ac", "customer", "me:x"), ("email", "acme", "customer", ":x")),
        (("name", "", "customer", "1:x"), ("name", "1:", "customer", "x")),
    ],
)
def test_antcrm_groups_differ_when_any_part_does(one, other):
    assert key_group(*one) != key_group(*other)
    assert key_group(*one) == key_group(*one) and isinstance(key_group(*one), str)


def test_antcrm_a_key_that_is_not_a_string_meets_no_stored_one():
    assert key_group("passport", "acme", "customer", 7) != key_group(
        "passport", "acme", "customer", "7"
    )


def test_crmcom_value_keys_split_at_the_field():
    fields = (*IDENTIFIER_FIELDS, "name")
    assert not [f for f in fields if ":" in f]  # so the first colon ends the field
    keys = {value_key(f, v) for f in fields for v in ("a", "a:b", ":a", "b:")}
    assert len(keys) == len(fields) * 4
    assert value_key("number", "CI1") == "number:CI1"
    assert value_key("number", 1) != value_key("number", "1")
    assert value_key("name", None) == ("name", None)


def test_antcrm_customer_entries_are_the_key_groups_of_its_keys():
    customer = {
        "customerId": "ACC-5",
        "org_id": "a:b",
        "kind": "account",
        "name": " Ünï ",
        "contactId": " x ",
        "passport": "",
        "emails": [{"value": " A@B.c "}],
        "phones": [{"value": "+1 22"}, {"value": "abc"}],
    }
    keys = [
        ("customerId", "ACC-5"),
        ("contactId", "x"),
        ("name", "ünï"),
        ("email", "a@b.c"),
        ("phone", "122"),
    ]
    expected = [
        (key_group(index, "a:b", pool, key), 5)
        for index, key in keys
        for pool in ("customer", "account")
    ]
    assert _customer_entries(customer) == expected
    lead = {**customer, "customerId": "LEAD-7", "kind": "lead", "emails": [], "phones": []}
    keys[0] = ("customerId", "LEAD-7")
    assert _customer_entries(lead) == [
        (key_group(index, "a:b", "lead", key), 7) for index, key in keys[:3]
    ]
