"""Omoto as a state machine: the simulator over HTTP and a plain dict model, side by side.

The model follows the rules and documented choices of docs/vendors/omoto.md:
the CRM API sends one survey invite per customer with a non-empty email or mobile number,
under the key's campaign; the Response API stores one response per valid push. Anything
that fails (401 keymismatch, 400 parseerror, 404 notfound) changes nothing.
"""

import json

from helpers import expect
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from simulator import create_app

NOW = "2024-06-01T12:00:00Z"
CAMPAIGNS = {"KA": "154", "KB": "200"}  # api_key -> campaign_id
ENDPOINTS = ["endpoint", "nps.v2"]
KEYS = ["KA", "KB"]
BAD_KEYS = ["KC", "", None]  # KC is no campaign's key, None sends no key at all

PERSONALINFO = st.fixed_dictionaries(
    {},
    optional={
        "firstname": st.sampled_from(["bertram", "jeeves"]),
        # " " is a non-empty string (it qualifies); 5 is not a string (ignored)
        "email": st.sampled_from(["bertie@jeeves.com", "", " ", 5, None]),
        "mobileno": st.sampled_from(["9835132376", "", None]),
        "transactionid": st.sampled_from(["202005201623", "T2", 7]),
        "regid": st.just("tst1"),
    },
)
CUSTOMER = st.fixed_dictionaries(
    {},
    optional={
        "personalinfo": PERSONALINFO | st.sampled_from(["bertie", None, []]),
        "qualifyinginfo": st.sampled_from(
            [[{"name": "unitname", "value": "book club"}], [], "x", None]
        ),
        "extra": st.just(1),
    },
)
# Mostly arrays of customer objects; sometimes a bad element or a body that is not an array.
CUSTOMERS = st.one_of(
    st.lists(CUSTOMER, max_size=4),
    st.lists(CUSTOMER, min_size=1, max_size=4),
    st.lists(CUSTOMER | st.sampled_from([1, "x", None, []]), min_size=1, max_size=3),
    st.sampled_from([{"personalinfo": {"email": "a@b.c"}}, "x", None]),
)

# push_response: a valid push, then zero, one or two faults, each breaking one part of it.
GOOD_HEADERS = [{"processid": "76"}, {"processid": 76, "x": 1}]
BAD_HEADERS = [{"processid": "076"}, {"processid": 76.0}, {}, ["76"], "76", None]
GOOD_RATINGS = [4, "4", "04", 0, 10, "10", "007"]
BAD_RATINGS = [11, -1, "4.5", 4.0, "", None, True, " 4", "+4", "100"]
GOOD_CATS = [{"price": []}, {"a": ["x"], "b": []}, {}]
BAD_CATS = [{"a": "x"}, {"a": [], "b": None}, None, [], "price"]
BAD_CAMPAIGNS = ["", 154.0, None, True, ["154"], {"id": "154"}]
OTHER_CAMPAIGNS = ["0154", " 154", "154 ", "999", 999]
OPTIONAL_FIELDS = {
    "campaigntype": st.just("nps"),
    "comment": st.sampled_from(["sample comment", 3]),
    "channel": st.just("sms"),
    "customerinfo": st.just({"email": "tharun@omoto.io", "name": "tharun"}),
    "namevaluemap": st.just({"unitname": "book club"}),
    "unknown": st.just("dropped"),
}
FAULTS = [
    "endpoint",
    "key",
    "other-key",
    "header",
    "no-jsonheader",
    "no-jsonbody",
    "header-not-json",
    "body-not-json",
    "body-not-object",
    "campaignid",
    "no-campaignid",
    "other-campaign",
    "npsrating",
    "catnpsmap",
]
RESPONSE_FIELDS = (
    "channel",
    "campaigntype",
    "catnpsmap",
    "comment",
    "customerinfo",
    "namevaluemap",
)


@st.composite
def pushes(draw):
    """(endpoint, key, form) of a push: valid, or with up to two faults."""
    endpoint = draw(st.sampled_from(ENDPOINTS))
    key = draw(st.sampled_from(KEYS))
    campaign = CAMPAIGNS[key]
    body = draw(st.fixed_dictionaries({}, optional=OPTIONAL_FIELDS))
    body["campaignid"] = draw(st.sampled_from([campaign, int(campaign)]))
    if draw(st.booleans()):
        body["npsrating"] = draw(st.sampled_from(GOOD_RATINGS))
    if draw(st.booleans()):
        body["catnpsmap"] = draw(st.sampled_from(GOOD_CATS))
    header = draw(st.sampled_from(GOOD_HEADERS))
    faults = draw(st.lists(st.sampled_from(FAULTS), max_size=2, unique=True))
    for fault in faults:
        if fault == "endpoint":
            endpoint = draw(st.sampled_from(["nope", "Endpoint", "endpoint.v2"]))
        elif fault == "key":
            key = draw(st.sampled_from(BAD_KEYS))
        elif fault == "other-key":
            key = draw(st.sampled_from([k for k in KEYS if k != key]))
        elif fault == "header":
            header = draw(st.sampled_from(BAD_HEADERS))
        elif fault == "campaignid":
            body["campaignid"] = draw(st.sampled_from(BAD_CAMPAIGNS))
        elif fault == "no-campaignid":
            del body["campaignid"]
        elif fault == "other-campaign":
            body["campaignid"] = draw(st.sampled_from(OTHER_CAMPAIGNS))
        elif fault == "npsrating":
            body["npsrating"] = draw(st.sampled_from(BAD_RATINGS))
        elif fault == "catnpsmap":
            body["catnpsmap"] = draw(st.sampled_from(BAD_CATS))
    form = {"jsonheader": json.dumps(header), "jsonbody": json.dumps(body)}
    if "body-not-object" in faults:
        form["jsonbody"] = json.dumps(draw(st.sampled_from([[body], "x", 154, None])))
    if "header-not-json" in faults:
        form["jsonheader"] = "{processid: 76}"
    if "body-not-json" in faults:
        form["jsonbody"] = form["jsonbody"][:-1]
    for name in ("jsonheader", "jsonbody"):
        if f"no-{name}" in faults:
            del form[name]
    return endpoint, key, form


def nonempty_str(value):
    return value if isinstance(value, str) and value != "" else None


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def expected_campaign(value):
    """campaignid as a string, or None when it is a parseerror (OM-RESP-2, OM-RESP-4)."""
    if is_int(value):
        return str(value)
    if isinstance(value, str) and value != "":
        return value
    return None


def expected_rating(value):
    """npsrating as an int 0-10, or None when it is a parseerror."""
    if is_int(value):
        rating = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        rating = int(value)
    else:
        return None
    return rating if 0 <= rating <= 10 else None


class OmotoMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.app = create_app({"seed": 1, "validate_responses": True})
        self.client = self.app.test_client()
        assert self.client.put("/__sim/clock", json={"now": NOW}).status_code == 200
        doc = {
            "campaigns": [
                {"campaign_id": cid, "api_key": key, "name": None} for key, cid in CAMPAIGNS.items()
            ],
            "response_endpoints": ENDPOINTS,
        }
        r = self.client.put("/__sim/state/omoto", json=doc)
        assert r.status_code == 200, r.get_json()
        self.invites = []  # expected outbox entries, in order
        self.responses = []  # expected stored responses, in order

    @staticmethod
    def url(page, key):
        return f"/omoto/{page}.htm" + ("" if key is None else f"?key={key}")

    @rule(key=st.sampled_from(KEYS * 3 + BAD_KEYS), customers=CUSTOMERS)
    def receive_customer_info(self, key, customers):
        r = self.client.post(
            self.url("receivecustomerinfo", key),
            data=json.dumps(customers),
            content_type="application/json",
        )
        event(f"receive_customer_info {r.status_code}")
        if key not in CAMPAIGNS:
            expect(r, 401, {"response": "keymismatch"})
            return
        if not isinstance(customers, list) or not all(isinstance(c, dict) for c in customers):
            expect(r, 400, {"response": "parseerror"})
            return
        expect(r, 200, {"status": "success"})
        for customer in customers:
            info = customer.get("personalinfo")
            if not isinstance(info, dict):
                continue
            email, mobileno = nonempty_str(info.get("email")), nonempty_str(info.get("mobileno"))
            if email is None and mobileno is None:
                continue
            tid = info.get("transactionid")
            self.invites.append(
                {
                    "vendor": "omoto",
                    "kind": "survey-invite",
                    "at": NOW,
                    "campaign_id": CAMPAIGNS[key],
                    "api_key": key,
                    "personalinfo": info,
                    "qualifyinginfo": customer.get("qualifyinginfo"),
                    "email": email,
                    "mobileno": mobileno,
                    "transactionid": tid if isinstance(tid, str) else None,
                    "sent_at": NOW,
                }
            )

    @rule(push=pushes(), multipart=st.booleans())
    def push_response(self, push, multipart):
        endpoint, key, form = push
        r = self.client.post(
            self.url(endpoint, key),
            data=form,
            content_type="multipart/form-data" if multipart else None,
        )
        got = (r.status_code, r.get_json())
        event(f"push_response {r.status_code}")
        if endpoint not in ENDPOINTS:
            assert got == (404, {"response": "notfound"})
            return
        if key not in CAMPAIGNS:
            assert got == (401, {"response": "keymismatch"})
            return
        parseerror = (400, {"response": "parseerror"})
        try:
            header, body = json.loads(form["jsonheader"]), json.loads(form["jsonbody"])
        except (KeyError, ValueError):
            assert got == parseerror
            return
        processid = header.get("processid") if isinstance(header, dict) else None
        if not (processid == "76" or (is_int(processid) and processid == 76)):
            assert got == parseerror
            return
        if not isinstance(body, dict):
            assert got == parseerror
            return
        campaign = expected_campaign(body.get("campaignid"))
        rating = expected_rating(body["npsrating"]) if "npsrating" in body else None
        cat = body.get("catnpsmap", {})
        if (
            campaign is None
            or ("npsrating" in body and rating is None)
            or not isinstance(cat, dict)
            or not all(isinstance(v, list) for v in cat.values())
        ):
            assert got == parseerror
            return
        if campaign != CAMPAIGNS[key]:
            assert got == (401, {"response": "keymismatch"})
            return
        assert got == (200, {"status": "success"})
        self.responses.append(
            {
                "response_id": len(self.responses) + 1,
                "endpoint": endpoint,
                "campaign_id": campaign,
                **{f: body.get(f) for f in RESPONSE_FIELDS},
                "npsrating": rating,
                "received_at": NOW,
            }
        )

    @invariant()
    def outbox_matches_model(self):
        entries = self.client.get("/__sim/outbox", query_string={"vendor": "omoto"}).get_json()
        got = [{k: v for k, v in e.items() if k != "id"} for e in entries["entries"]]
        assert got == self.invites
        ids = [e["id"] for e in entries["entries"]]
        assert ids == sorted(set(ids))

    @invariant()
    def state_matches_model(self):
        state = self.client.get("/__sim/state/omoto").get_json()
        assert state["responses"] == self.responses
        assert state["response_endpoints"] == ENDPOINTS
        assert {c["api_key"]: c["campaign_id"] for c in state["campaigns"]} == CAMPAIGNS

    def teardown(self):
        assert self.app.extensions["crmsim"].response_problems == []


OmotoMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
test_omoto_machine = OmotoMachine.TestCase
