"""AntCRM send-sms: the SMS account, the trial counter, requirements."""

import pytest
from helpers import expect

from ._support import OK, ORG, SEND_SMS_SAMPLE, URL, item, load, outbox, send_ok, sms, state


def test_send_sms_sample_with_an_sms_account(client, sim):
    load(sim, orgs=[{**ORG, "sms_account_configured": True}])
    r = client.post(URL, json=SEND_SMS_SAMPLE)
    expect(r, 200, OK)
    assert outbox(sim) == [
        sms("0333456789", "This is content"),
        sms("098765431", "This is content"),
    ]
    assert state(sim)["orgs"][0]["trial_sms_remaining"] == 0


def test_send_sms_uses_up_the_trial_counter(client, sim):
    load(sim, orgs=[{**ORG, "trial_sms_remaining": 3}])
    send_ok(client, item("send-sms", content="A", phones=["1", "2"]))
    send_ok(client, item("send-sms", content="B", phones=["3", "4"]))
    send_ok(client, item("send-sms", content="C", phones=["5"]))
    assert outbox(sim) == [sms("1", "A"), sms("2", "A"), sms("3", "B")]
    assert state(sim)["orgs"][0]["trial_sms_remaining"] == 0


def test_send_sms_not_allowed_records_nothing(client, ant):
    send_ok(client, item("send-sms", content="A", phones=["1"]))
    assert outbox(ant) == []


@pytest.mark.parametrize(
    "payload",
    [
        {"phones": ["1"]},
        {"content": "", "phones": ["1"]},
        {"content": "A"},
        {"content": "A", "phones": []},
        {"content": "A", "phones": [""]},
        {"content": "A", "phones": "0333456789"},
        {"content": "A", "phones": [333456789]},
        {"content": 5, "phones": ["1"]},
    ],
)
def test_send_sms_requires_content_and_phones(client, sim, payload):
    load(sim, orgs=[{**ORG, "sms_account_configured": True}])
    send_ok(client, item("send-sms", **payload))
    assert outbox(sim) == []
