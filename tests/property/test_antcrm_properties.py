"""AntCRM properties: add-contact is idempotent in count; no payload breaks the listener."""

from helpers import expect
from hypothesis import given
from hypothesis import strategies as st

from simulator import create_app
from simulator.schemas import default_schemas_dir, load
from simulator.vendors.antcrm.parsing import ACTION_TYPES

SENDER = "owner@example.com"
URL = "/antcrm/webhook/listener/L1"
STATE = {
    "orgs": [{"org_id": "o1", "users": [SENDER], "stages": ["New"], "trial_sms_remaining": 3}],
    "listeners": [
        {
            "listener_id": "L1",
            "org_id": "o1",
            "default_tag": "webhook",
            "contact_source": "Website",
            "lead_source": "Ads",
            "auto_email": {"enabled": True, "subject": "Hi", "body": "Welcome"},
            "auto_sms": {"enabled": True, "content": "Hello"},
        }
    ],
}
ACTIONS = list(ACTION_TYPES)


def fresh():
    client = create_app({"seed": 7}).test_client()
    assert client.put("/__sim/state/antcrm", json=STATE).status_code == 200
    return client


def send_ok(client, *items):
    """The listener request with ``items``, answered 200 success (tests/helpers.py names)."""
    expect(
        client.post(URL, json={"senderUser": SENDER, "data": list(items)}), 200, {"success": True}
    )


words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
non_blank = words.filter(lambda s: s.strip())


def short_email(address: str) -> str:
    """``address`` under 60 characters where its domain allows, its local part shortened:
    cutting from the front could leave ``@domain`` alone, not an address (AC-EMAIL-1)."""
    local, _, domain = address.rpartition("@")
    return address if len(address) < 60 else f"{local[: max(1, 58 - len(domain))]}@{domain}"


email = st.emails().map(short_email)
phone = st.from_regex(r"\A\+?[0-9][0-9 ().-]{0,14}\Z")
entry = st.one_of(
    st.builds(lambda v: v, email),
    st.builds(lambda t, v: {"type": t, "value": v}, st.sampled_from(["Work", "Home", None]), email),
)
phone_entry = st.one_of(phone, st.builds(lambda v: {"value": v}, phone))
contact = st.fixed_dictionaries(
    {"name": non_blank},
    optional={
        "lastname": words,
        "type": st.sampled_from([0, 1]),
        "gender": st.sampled_from([0, 1, 2]),
        "tag": words,
        "contactId": non_blank,
        "passport": non_blank,
        "emails": st.lists(entry, min_size=1, max_size=3),
        "phones": st.lists(phone_entry, min_size=1, max_size=3),
        "cusFields": st.lists(
            st.fixed_dictionaries({"name": non_blank, "value": words}), max_size=2
        ),
    },
).filter(lambda c: any(k in c for k in ("contactId", "passport", "emails", "phones")))


@given(contact=contact, times=st.integers(min_value=2, max_value=4))
def test_add_contact_is_idempotent_in_count(contact, times):
    """The same contact sent again and again: one record, one duplicate line per repeat."""
    client = fresh()
    send_ok(client, {"actionType": "add-contact", "data": contact})
    first = client.get("/__sim/state/antcrm").get_json()["customers"]
    outbox = client.get("/__sim/outbox").get_json()["count"]
    for _ in range(times - 1):
        send_ok(client, {"actionType": "add-contact", "data": contact})
    after = client.get("/__sim/state/antcrm").get_json()["customers"]
    assert len(after) == len(first) == 1
    assert [h["type"] for h in after[0]["history"]] == ["created"] + ["duplicate"] * (times - 1)
    assert {**after[0], "history": []} == {**first[0], "history": []}
    assert client.get("/__sim/outbox").get_json()["count"] == outbox


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | words,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(words, inner, max_size=3),
    max_leaves=8,
)
FIELDS = [
    "name", "lastname", "type", "gender", "passport", "emails", "phones", "email", "phone",
    "addresses", "websites", "im", "tag", "cusFields", "permit", "companyContact", "contactId",
    "customerId", "contactType", "body", "model", "dealId", "stage", "dealWith", "contacts",
    "value", "closeDate", "owner_opportunity", "content", "companyLead",
]  # fmt: skip
payload = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)
good = st.fixed_dictionaries(
    {"name": st.just("Huy"), "stage": st.just("New"), "body": st.just("b"), "content": st.just("c")}
)


@given(
    items=st.lists(
        st.fixed_dictionaries(
            {
                "actionType": st.sampled_from([*ACTIONS, "update-deal"]),
                "data": st.one_of(
                    payload, good.flatmap(lambda g: payload.map(lambda p: {**g, **p}))
                ),
            }
        ),
        max_size=6,
    )
)
def test_no_payload_breaks_the_listener_or_the_state(items):
    """Any item data: 200, and what was stored is a valid state that loads back unchanged."""
    client = fresh()
    send_ok(client, *items)
    dumped = client.get("/__sim/state/antcrm").get_json()
    assert load(default_schemas_dir()).validate("antcrm/state.json", dumped) == []
    r = client.put("/__sim/state/antcrm", json=dumped)
    expect(r, 200, dumped)
