"""CRM.COM GET provisioning/generic_provisioning_requests/get_pending: order, groups,
providers, paging, the clock's window."""

import pytest
from helpers import expect

from ._support import (
    BASE,
    LOGIN,
    NOW,
    OK_NULL,
    PENDING_STATE_REQUESTS,
    PP,
    STATE,
    conforms,
    error,
    invalid,
    mandatory,
    not_found,
    only_one,
    page,
    pending,
    post,
    request,
)

MAXIMUM = error(
    "GENERAL.MAXIMUMNUMBEROFRESULTSEXCEEDEDEXCEPTION",
    "The maximum number of results is exceeded.",
    "The parameter 'number_of_results' can be at most 50.",
)


def item(number):
    r = next(x for x in PENDING_STATE_REQUESTS if x["number"] == number)
    return {
        k: r[k]
        for k in (
            "number",
            "type",
            "life_cycle_state",
            "created_date",
            "scheduled_date",
            "executed_date",
        )
    }


def test_get_pending_provisioning_requests_orders_and_groups(client, prov, schemas):
    r = page(client, prov, 50, 0)
    expect(
        r,
        200,
        {
            "status": OK_NULL,
            "data": {
                "subscriptions_set": [
                    {
                        "subscription_number": "S1",
                        "account_number": "AR1",
                        "pending_provisioning_requests_set": [
                            item("PR01"),
                            item("PR02"),
                            item("PR06"),
                            item("PR07"),
                        ],
                    },
                    {
                        "subscription_number": "S2",
                        "account_number": "AR2",
                        "pending_provisioning_requests_set": [item("PR03"), item("PR05")],
                    },
                    {
                        "subscription_number": "S3",
                        "account_number": None,
                        "pending_provisioning_requests_set": [item("PR04")],
                    },
                ]
            },
        },
    )
    conforms(schemas, "get_pending_provisioning_requests.response.json", r.get_json())


def test_get_pending_provisioning_requests_document_example(client, prov):
    # ?provisioning_provider_identifier=alternative_code=GP1&number_of_results=5&offset=2
    url = BASE + "/provisioning/generic_provisioning_requests/get_pending"
    r = client.get(
        f"{url}?token={prov}&provisioning_provider_identifier=alternative_code=GP1&number_of_results=5&offset=2"
    )
    # sorted: PR01 PR02 PR03 PR04 PR05 PR06 PR07 -> offset 2, five: PR03 PR04 PR05 PR06 PR07
    expect(
        r,
        200,
        {
            "status": OK_NULL,
            "data": {
                "subscriptions_set": [
                    {
                        "subscription_number": "S2",
                        "account_number": "AR2",
                        "pending_provisioning_requests_set": [item("PR03"), item("PR05")],
                    },
                    {
                        "subscription_number": "S3",
                        "account_number": None,
                        "pending_provisioning_requests_set": [item("PR04")],
                    },
                    {
                        "subscription_number": "S1",
                        "account_number": "AR1",
                        "pending_provisioning_requests_set": [item("PR06"), item("PR07")],
                    },
                ]
            },
        },
    )


def flat(r):
    return [
        x["number"]
        for group in r.get_json()["data"]["subscriptions_set"]
        for x in group["pending_provisioning_requests_set"]
    ]


@pytest.mark.parametrize("provider", ["id=PROV1", "name=Generic One", "alternative_code=GP1"])
def test_get_pending_provisioning_requests_provider_identifiers(client, prov, provider):
    assert sorted(flat(page(client, prov, 50, 0, provider))) == [
        "PR01",
        "PR02",
        "PR03",
        "PR04",
        "PR05",
        "PR06",
        "PR07",
    ]


def test_get_pending_provisioning_requests_other_provider(client, prov):
    assert flat(page(client, prov, 50, 0, "id=PROV2")) == ["PRX4"]


def test_get_pending_provisioning_requests_pages(client, prov):
    seen = []
    for offset in range(0, 10, 2):
        seen.append(sorted(flat(page(client, prov, 2, offset))))
    assert seen == [["PR01", "PR02"], ["PR03", "PR04"], ["PR05", "PR06"], ["PR07"], []]
    expect(page(client, prov, 2, 7), 200, {"status": OK_NULL, "data": {"subscriptions_set": []}})
    expect(
        page(client, prov, 50, 10**30), 200, {"status": OK_NULL, "data": {"subscriptions_set": []}}
    )


def test_get_pending_provisioning_requests_window_moves_with_the_clock(client, prov, sim):
    def numbers():
        token = post(client, "/authentication/token", LOGIN).get_json()["data"]["token"]
        return sorted(flat(page(client, token, 50, 0)))

    assert numbers() == ["PR01", "PR02", "PR03", "PR04", "PR05", "PR06", "PR07"]
    sim.advance(1)  # PR07 (created exactly 7 days before) drops out
    assert numbers() == ["PR01", "PR02", "PR03", "PR04", "PR05", "PR06"]
    sim.advance(4 * 86400 + 43199)  # 2024-05-30T00:00:00Z is now exactly 7 days ago
    assert numbers() == ["PR01", "PR02", "PR03", "PR04", "PR05", "PR06"]
    sim.advance(1)  # everything created 2024-05-30 drops out
    assert numbers() == []
    sim.freeze("2024-05-26T00:00:00Z")  # back in time: the window grows again
    assert numbers() == ["PR01", "PR02", "PR03", "PR04", "PR05", "PR06", "PR07", "PRX1"]


def test_get_pending_provisioning_requests_fields_set(client, prov):
    assert (
        page(client, prov, 1, 0, fields_set="subscriptions_set").get_json()["data"][
            "subscriptions_set"
        ][0]["subscription_number"]
        == "S1"
    )
    expect(page(client, prov, 1, 0, fields_set="number,type"), 200, {"status": OK_NULL, "data": {}})


@pytest.mark.parametrize("size", ["50", "050", "1"])
def test_get_pending_provisioning_requests_accepts_1_to_50(client, prov, size):
    assert page(client, prov, size, "0").get_json()["status"] == OK_NULL


@pytest.mark.parametrize("size", ["51", "100", "9" * 40])
def test_get_pending_provisioning_requests_51_is_maximumnumberofresultsexceeded(client, prov, size):
    expect(page(client, prov, size, "0"), 200, MAXIMUM)


@pytest.mark.parametrize(
    ("size", "offset", "param", "reason"),
    [
        ("0", "0", "number_of_results", "must be at least 1"),
        ("-1", "0", "number_of_results", "must be at least 1"),
        ("abc", "0", "number_of_results", "must be an integer"),
        ("1.5", "0", "number_of_results", "must be an integer"),
        ("+5", "0", "number_of_results", "must be an integer"),
        (" 5", "0", "number_of_results", "must be an integer"),
        ("٥", "0", "number_of_results", "must be an integer"),
        ("5", "-1", "offset", "must be at least 0"),
        ("5", "x", "offset", "must be an integer"),
        ("5", "0\n", "offset", "must be an integer"),
        ("5", "1e3", "offset", "must be an integer"),
        ("5", "-" + "9" * 40, "offset", "must be at least 0"),
    ],
)
def test_get_pending_provisioning_requests_bad_paging_values(
    client, prov, size, offset, param, reason
):
    expect(page(client, prov, size, offset), 200, invalid(param, reason))


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({}, "provisioning_provider_identifier"),
        ({"number_of_results": "5", "offset": "0"}, "provisioning_provider_identifier"),
        ({"provisioning_provider_identifier": "id=PROV1", "offset": "0"}, "number_of_results"),
        (
            {
                "provisioning_provider_identifier": "id=PROV1",
                "number_of_results": "",
                "offset": "0",
            },
            "number_of_results",
        ),
        ({"provisioning_provider_identifier": "id=PROV1", "number_of_results": "5"}, "offset"),
        (
            {
                "provisioning_provider_identifier": "id=PROV1",
                "number_of_results": "5",
                "offset": "",
            },
            "offset",
        ),
        # mandatory before values
        ({"provisioning_provider_identifier": "bogus", "number_of_results": "500"}, "offset"),
    ],
)
def test_get_pending_provisioning_requests_mandatory_parameters(client, prov, params, param):
    expect(pending(client, token=prov, **params), 200, mandatory(param))


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("GP1", invalid(PP, "must be written as field=value")),
        ("alternative_code=GP1,id=PROV1", only_one(PP)),
        (
            "code=GP1",
            invalid(PP, "names an unknown field 'code' (allowed: id, name, alternative_code)"),
        ),
        ("id=", invalid(PP, "has an empty value for 'id'")),
        ("id=NOPE", not_found("provisioning provider", "id", "NOPE")),
        ("alternative_code=gp1", not_found("provisioning provider", "alternative_code", "gp1")),
    ],
)
def test_get_pending_provisioning_requests_provider_errors(client, prov, provider, expected):
    expect(page(client, prov, 5, 0, provider), 200, expected)


def test_get_pending_provisioning_requests_values_come_before_lookup(client, prov):
    expect(page(client, prov, 51, 0, "id=NOPE"), 200, MAXIMUM)
    expect(page(client, prov, 5, -1, "id=NOPE"), 200, invalid("offset", "must be at least 0"))


def test_get_pending_provisioning_requests_paging_through_many_50_at_a_time(client, sim):
    sim.freeze(NOW)
    requests = [
        request(
            f"PR{i:04d}",
            f"2024-06-{1 + i % 20:02d}T{i % 24:02d}:00:00Z",
            subscription_number=f"S{i % 7}",
        )
        for i in range(237)
    ]
    sim.put_state({**STATE, "provisioning_requests": requests}, vendor="crmcom")
    token = post(client, "/authentication/token", LOGIN).get_json()["data"]["token"]
    expected = [
        r["number"] for r in sorted(requests, key=lambda r: (r["scheduled_date"], r["number"]))
    ]
    seen = []
    offset = 0
    while True:
        got = page(client, token, 50, offset)
        groups = got.get_json()["data"]["subscriptions_set"]
        numbers = flat(got)
        assert sorted(numbers, key=expected.index) == expected[offset : offset + 50]
        assert len({g["subscription_number"] for g in groups}) == len(groups)
        if not numbers:
            break
        seen.extend(expected[offset : offset + len(numbers)])
        offset += len(numbers)
    assert seen == expected
