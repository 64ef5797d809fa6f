"""AntCRM automatic e-mail and SMS after add-contact."""

import pytest

from ._support import AUTO, ORG, email, item, load, outbox, send_ok, sms, state


def test_auto_email_and_sms_go_to_the_first_address_A_A14(client, sim):
    load(sim, orgs=[{**ORG, "sms_account_configured": True}], **AUTO)
    send_ok(
        client,
        item("add-contact", name="A", emails=["first@x.co", "second@x.co"], phones=["01", "02"]),
        item("add-lead", name="L", emails=["lead@x.co"]),
        item("add-contact", name="Acc", type=1, phones=["03"]),
        item("add-contact", name="Nothing"),
    )
    assert outbox(sim) == [
        email("first@x.co", "PID-1"),
        sms("01", "Hi!", "auto", "PID-1"),
        email("lead@x.co", "LID-1"),
        sms("03", "Hi!", "auto", "CID-1"),
    ]


def test_auto_messages_never_for_duplicates_updates_or_auto_companies(client, sim):
    load(sim, orgs=[{**ORG, "sms_account_configured": True}], **AUTO)
    send_ok(
        client,
        item(
            "add-contact",
            name="A",
            emails=["a@x.co"],
            companyContact={"name": "Co", "emails": ["co@x.co"]},
        ),
    )
    assert [e["to"] for e in outbox(sim)] == ["a@x.co"]
    send_ok(
        client,
        item("add-contact", name="A", emails=["a@x.co"], phones=["09"]),
        item("update-contact", emails=["a@x.co"], phones=["09"]),
        item("add-lead", name="L", emails=["l@x.co"]),
        item("add-lead", name="L", emails=["l@x.co"]),
    )
    assert [e["to"] for e in outbox(sim)] == ["a@x.co", "l@x.co"]


@pytest.mark.parametrize(
    "config",
    [
        {"auto_email": {"enabled": False, "subject": "S", "body": "B"}},
        {"auto_email": {"enabled": True, "subject": "", "body": "B"}},
        {"auto_email": {"enabled": True, "subject": "S"}},
        {"auto_sms": {"enabled": False, "content": "C"}},
        {"auto_sms": {"enabled": True, "content": None}},
        {"auto_sms": {"enabled": True, "content": "C"}, "orgs": [ORG]},
    ],
)
def test_auto_messages_need_to_be_enabled_and_configured(client, sim, config):
    load(sim, **config)
    send_ok(client, item("add-contact", name="A", emails=["a@x.co"], phones=["09"]))
    assert outbox(sim) == []


def test_auto_sms_uses_the_trial_counter(client, sim):
    load(sim, orgs=[{**ORG, "trial_sms_remaining": 1}], auto_sms={"enabled": True, "content": "C"})
    send_ok(
        client,
        item("add-contact", name="A", phones=["01"]),
        item("add-contact", name="B", phones=["02"]),
        item("send-sms", content="X", phones=["03"]),
    )
    assert outbox(sim) == [sms("01", "C", "auto", "PID-1")]
    assert state(sim)["orgs"][0]["trial_sms_remaining"] == 0
