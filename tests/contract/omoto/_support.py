"""Omoto contract tests' shared vocabulary: the two APIs' paths, answers, the documented
samples, ``crm`` and ``push`` (raw responses) and state readers."""

import json

CRM = "/omoto/receivecustomerinfo.htm"
NOW = "2024-06-01T12:00:00Z"
SUCCESS = {"status": "success"}
KEYMISMATCH = {"response": "keymismatch"}
PARSEERROR = {"response": "parseerror"}
NOTFOUND = {"response": "notfound"}

CAMPAIGNS = [
    {"campaign_id": "154", "api_key": "KEY-A", "name": "Book club NPS"},
    {"campaign_id": "200", "api_key": "KEY-B"},
]

# The CRM API's sample (vendor-docs/omoto-crm-api.txt), with its comma added (GEN-JSON-1).
SAMPLE_CUSTOMER = {
    "personalinfo": {
        "firstname": "bertram",
        "lastname": "wooster",
        "email": "bertie@jeeves.com",
        "mobileno": "9835132376",
        "transactionid": "202005201623",
        "regid": "tst202005201144",
    },
    "qualifyinginfo": [
        {"name": "unitname", "value": "book club"},
        {"name": "genre", "value": "comedy"},
        {"name": "author", "value": "pg wodehouse"},
        {"name": "publisher", "value": "jenkins"},
        {"name": "country", "value": "uk"},
    ],
}

# The Response API's worked example (vendor-docs/omoto-response-api.txt), brackets restored.
EXAMPLE_HEADER = {"processid": "76"}
EXAMPLE_BODY = {
    "catnpsmap": {"internet availability": [], "price": []},
    "comment": "sample comment",
    "customerinfo": {
        "email": "tharun@omoto.io",
        "registrationno": "exl001",
        "mobileno": "9663798289",
        "name": "tharun",
    },
    "namevaluemap": {
        "unitname": "standard name as provided by omoto",
        "city": "city of the customer",
    },
    "npsrating": 4,
    "campaignid": 154,
}


def crm(client, customers=None, key="KEY-A", *, data=None, content_type="application/json", **kw):
    url = CRM if key is None else f"{CRM}?key={key}"
    if data is None:
        data = json.dumps(customers)
    return client.post(url, data=data, content_type=content_type, **kw)


DEFAULT = object()


def push(client, body=DEFAULT, header=DEFAULT, key="KEY-A", endpoint="endpoint", **kw):
    url = f"/omoto/{endpoint}.htm" + ("" if key is None else f"?key={key}")
    if "data" not in kw:
        kw["data"] = {
            "jsonheader": json.dumps(EXAMPLE_HEADER if header is DEFAULT else header),
            "jsonbody": json.dumps(EXAMPLE_BODY if body is DEFAULT else body),
        }
    return client.post(url, **kw)


def invites(sim):
    return [
        {k: v for k, v in e.items() if k != "id"}
        for e in sim.outbox(vendor="omoto", kind="survey-invite")
    ]


def responses(sim):
    return sim.state("omoto")["responses"]


def stored(body, response_id=1, endpoint="endpoint", npsrating=None, campaign_id="154"):
    return {
        "response_id": response_id,
        "endpoint": endpoint,
        "campaign_id": campaign_id,
        "channel": body.get("channel"),
        "campaigntype": body.get("campaigntype"),
        "catnpsmap": body.get("catnpsmap"),
        "npsrating": npsrating,
        "comment": body.get("comment"),
        "customerinfo": body.get("customerinfo"),
        "namevaluemap": body.get("namevaluemap"),
        "received_at": NOW,
    }
