"""CRM.COM properties: get_pending paging visits every eligible request once, in order; any
body gets the envelope (never a crash); any body the request schema accepts is accepted."""

import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from simulator import create_app

BASE = "/crmapi/rest/v2"
NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
LOGIN = {"username": "u", "password": "p", "organisation": "o"}
PROVIDERS = [
    {"id": "PROV1", "name": "One", "alternative_code": "GP1"},
    {"id": "PROV2", "name": "Two", "alternative_code": "GP2"},
]
CODES = {
    "OK",
    *(
        "COM.CRM.EXCEPTION." + c
        for c in (
            "AUTHENTICATION.INVALIDCREDENTIALSEXCEPTION",
            "AUTHENTICATION.INVALIDTOKENEXCEPTION",
            "GENERAL.INVALIDREQUESTBODYEXCEPTION",
            "GENERAL.MANDATORYPARAMETERMISSINGEXCEPTION",
            "GENERAL.INVALIDPARAMETERVALUEEXCEPTION",
            "GENERAL.ONLYONEIDENTIFIERALLOWEDEXCEPTION",
            "GENERAL.MAXIMUMNUMBEROFRESULTSEXCEEDEDEXCEPTION",
            "GENERAL.ENTITYNOTFOUNDEXCEPTION",
            "CONTACTINFORMATION.CONTACTINFORMATIONNOTUNIQUEEXCEPTION",
        )
    ),
}


def fresh(state):
    """A client whose crmcom state is ``state`` at NOW, and a valid token."""
    client = create_app({"seed": 11}).test_client()
    client.put("/__sim/clock", json={"now": NOW.isoformat().replace("+00:00", "Z")})
    r = client.put("/__sim/state/crmcom", json={"users": [LOGIN], **state})
    assert r.status_code == 200, r.get_json()
    token = client.post(BASE + "/authentication/token", json=LOGIN).get_json()["data"]["token"]
    return client, token


def stamp(minutes, tz_minutes):
    tz = timedelta(minutes=tz_minutes)
    local = (NOW + timedelta(minutes=minutes)).astimezone(timezone(tz))
    return local.isoformat().replace("+00:00", "Z")


requests = st.lists(
    st.fixed_dictionaries(
        {
            "provider_id": st.sampled_from(["PROV1", "PROV1", "PROV1", "PROV2"]),
            "subscription_number": st.sampled_from(["S1", "S2", "S3", "S4"]),
            "life_cycle_state": st.sampled_from(["PENDING"] * 4 + ["COMPLETED", "REJECTED"]),
            # 7 days = 10080 minutes: some created outside the window, one exactly on it
            "created": st.one_of(st.integers(-11000, 600), st.just(-10080)),
            "scheduled": st.sampled_from([-600, 0, 600]) | st.integers(-3000, 3000),  # ties
            "tz": st.sampled_from([0, 120, -300]),
        }
    ),
    max_size=120,
)


@given(requests=requests, size=st.integers(1, 50))
def test_get_pending_paging_visits_every_eligible_request_once_in_order(requests, size):
    docs = [
        {
            "number": f"PR{999 - i:03d}",  # string order is the reverse of insertion order
            "provider_id": r["provider_id"],
            "subscription_number": r["subscription_number"],
            "account_number": "A" + r["subscription_number"],
            "type": "ACTIVATE",
            "life_cycle_state": r["life_cycle_state"],
            "created_date": stamp(r["created"], r["tz"]),
            "scheduled_date": stamp(r["scheduled"], r["tz"]),
        }
        for i, r in enumerate(requests)
    ]
    client, token = fresh({"provisioning_providers": PROVIDERS, "provisioning_requests": docs})
    cutoff = NOW - timedelta(days=7)

    def when(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    eligible = sorted(
        (
            d
            for d in docs
            if d["provider_id"] == "PROV1"
            and d["life_cycle_state"] == "PENDING"
            and when(d["created_date"]) >= cutoff
        ),
        key=lambda d: (when(d["scheduled_date"]), d["number"]),
    )
    offset, visited = 0, []
    while True:
        r = client.get(
            BASE + "/provisioning/generic_provisioning_requests/get_pending",
            query_string={
                "token": token,
                "provisioning_provider_identifier": "alternative_code=GP1",
                "number_of_results": str(size),
                "offset": str(offset),
            },
        )
        body = r.get_json()
        assert body["status"]["code"] == "OK"
        chunk = eligible[offset : offset + size]
        groups = {}
        for d in chunk:
            group = groups.setdefault(
                d["subscription_number"],
                {
                    "subscription_number": d["subscription_number"],
                    "account_number": d["account_number"],
                    "pending_provisioning_requests_set": [],
                },
            )
            group["pending_provisioning_requests_set"].append(
                {
                    "number": d["number"],
                    "type": "ACTIVATE",
                    "life_cycle_state": "PENDING",
                    "created_date": d["created_date"],
                    "scheduled_date": d["scheduled_date"],
                    "executed_date": None,
                }
            )
        assert body["data"] == {"subscriptions_set": list(groups.values())}
        if not chunk:
            break
        visited.extend(d["number"] for d in chunk)
        offset += len(chunk)
    assert visited == [d["number"] for d in eligible]
    assert len(set(visited)) == len(visited)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
contactish = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["PERSON", "COMPANY", "X", None]) | json_values,
        "first_name": st.sampled_from(["A", "", None]) | json_values,
        "last_name": st.sampled_from(["B", " ", None]) | json_values,
        "company_name": json_values,
        "demographics": json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "gender": st.sampled_from(["MALE", "FEMALE", "X"]) | json_values,
                "passport_number": st.sampled_from(["P1", "P2"]) | json_values,
                "date_of_birth": json_values
                | st.fixed_dictionaries(
                    {},
                    optional={
                        "day": st.integers(-1, 32) | json_values,
                        "month": st.integers(0, 13),
                        "year": st.integers(),
                    },
                ),
                "phone_set": json_values,
            },
        ),
        "phone_set": json_values | st.lists(json_values, max_size=3),
        "email_set": st.lists(
            st.fixed_dictionaries({}, optional={"email_address": json_values}), max_size=2
        ),
        "category_identifier": json_values,
        "contact_information_identifier": st.sampled_from([{"number": "CI000001"}, {}])
        | json_values,
        "fields_set": json_values,
        "udf_float_1": json_values,
    },
)


@given(
    path=st.sampled_from(
        [
            "/contact_information/create",
            "/contact_information/update",
            "/authentication/token",
            "/authentication/token/release",
            "/authentication/web_api_key/token",
        ]
    ),
    body=contactish | json_values,
    with_token=st.booleans(),
)
def test_any_post_body_gets_the_envelope(path, body, with_token):
    client, token = fresh(
        {
            "contacts": [
                {
                    "type": "PERSON",
                    "first_name": "A",
                    "last_name": "B",
                    "demographics": {"passport_number": "P1"},
                }
            ]
        }
    )
    if with_token and isinstance(body, dict):
        body = {**body, "token": token}
    r = client.post(BASE + path, data=json.dumps(body))
    assert r.status_code == 200
    envelope = r.get_json()
    assert envelope["status"]["code"] in CODES
    assert (envelope["data"] is None) == (envelope["status"]["code"] != "OK" or "release" in path)


@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "contact_information_identifier",
                "provisioning_provider_identifier",
                "number_of_results",
                "offset",
                "fields_set",
            ]
        ),
        st.text(max_size=12) | st.sampled_from(["id=PROV1", "number=CI000001", "50", "51", "0"]),
    ),
    path=st.sampled_from(
        [
            "/contact_information/show",
            "/provisioning/generic_provisioning_requests/get_pending",
        ]
    ),
)
def test_any_query_gets_the_envelope(params, path):
    client, token = fresh({"provisioning_providers": PROVIDERS})
    r = client.get(BASE + path, query_string={"token": token, **params})
    assert r.status_code == 200
    assert r.get_json()["status"]["code"] in CODES


SCHEMAS = create_app({"seed": 1}).extensions["crmsim"].schemas
text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=8)
names = text.filter(str.strip)
maybe = st.none() | text
identifier = st.dictionaries(
    st.sampled_from(["name", "id", "code"]), names | st.integers(), min_size=1, max_size=1
)
phone = st.fixed_dictionaries({"number": names}, optional={"type": maybe})
email = st.fixed_dictionaries({"email_address": names}, optional={"type": maybe})
address = st.fixed_dictionaries(
    {},
    optional={
        "type": maybe,
        "street_name": maybe,
        "floor": st.none() | text | st.integers(),
        "country_identifier": st.none() | identifier,
    },
)
sets = {
    "phone_set": st.lists(phone, max_size=3),
    "email_set": st.lists(email, max_size=3),
    "address_set": st.lists(address, max_size=2),
    "addresses_set": st.lists(address, max_size=2),
}
demographics = st.fixed_dictionaries(
    {},
    optional={
        "gender": st.sampled_from(["MALE", "FEMALE", None]),
        "passport_number": maybe,
        "id_number": maybe,
        "date_of_birth": st.none()
        | st.dates().map(lambda d: {"day": d.day, "month": d.month, "year": d.year}),
        "industry_identifier": st.none() | identifier,
        **sets,
    },
)
common = {
    "title": maybe,
    "middle_name": maybe,
    "notes": maybe,
    "category_identifier": st.none() | identifier,
    "demographics": st.none() | demographics,
    "udf_float_1": st.none() | st.integers() | st.floats(allow_nan=False, allow_infinity=False),
    "udf_string_2": maybe,
    "fields_set": st.lists(st.sampled_from(["id", "name", "phone_set", "bogus"])).map(",".join),
    **sets,
}
valid_bodies = st.fixed_dictionaries(
    {"type": st.just("PERSON"), "first_name": names, "last_name": names}, optional=common
) | st.fixed_dictionaries({"type": st.just("COMPANY"), "company_name": names}, optional=common)


@given(body=valid_bodies)
def test_create_accepts_bodies_its_request_schema_accepts(body):
    body = {**body, "token": "placeholder"}
    assert SCHEMAS.validate("crmcom/create_contact_information.request.json", body) == []
    client, token = fresh({"uniqueness_fields": []})
    r = client.post(BASE + "/contact_information/create", json={**body, "token": token})
    assert r.get_json()["status"]["code"] == "OK", r.get_json()
    assert SCHEMAS.validate("crmcom/create_contact_information.response.json", r.get_json()) == []
