"""simulator.testing: every operation's strategy draws documents its request schema accepts."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.schemas import default_schemas_dir, load
from simulator.testing import operations, strategy

SCHEMAS = load(default_schemas_dir().resolve())
QUICK = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_every_vendor_operation_has_a_strategy():
    ops = operations()
    assert {
        "botw.create_contact",
        "omoto.receive_customer_info",
        "antcrm.listener",
        "crmcom.get_pending_provisioning_requests",
    } <= set(ops)
    assert len(ops) == 15  # crmcom.list_contact_information since issue 12


@pytest.mark.parametrize("operation", operations())
def test_strategy_documents_pass_their_request_schema(operation):
    vendor, _, name = operation.partition(".")

    @QUICK
    @given(strategy(operation))
    def check(doc):
        assert SCHEMAS.validate(f"{vendor}/{name}.request.json", doc) == []

    check()


@QUICK
@given(strategy("botw.create_contact", pin={"phone": st.just("5551234567")}))
def test_pins_and_faker_values(form):
    assert form["phone"] == "5551234567"
    if "email" in form:
        assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", form["email"])


@QUICK
@given(strategy("antcrm.listener"))
def test_antcrm_items_are_drawn_per_action(envelope):
    for item in envelope["data"]:
        schema = f"antcrm/actions/{item['actionType']}.json"
        assert SCHEMAS.validate(schema, item["data"]) == []
