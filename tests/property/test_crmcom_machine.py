"""CRM.COM as a state machine: the simulator over HTTP and a plain dict model, side by side.

The model follows the rules and documented choices of docs/vendors/crmcom.md:
contact create (mandatory names per type, uniqueness of passport_number and id_number, CI
numbers one above the highest), update (absent fields untouched, null clears, sets added),
show by number/id/passport_number/id_number, and get_pending paging over provisioning
requests loaded in the state, on a frozen clock that the machine moves forward so that the
7-day window shifts deterministically.
"""

from datetime import UTC, datetime, timedelta

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from simulator import create_app

BASE = "/crmapi/rest/v2"
NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
LOGIN = {"username": "api.user", "password": "s3cret", "organisation": "ACME"}
EXC = "COM.CRM.EXCEPTION."
MANDATORY = EXC + "GENERAL.MANDATORYPARAMETERMISSINGEXCEPTION"
INVALID = EXC + "GENERAL.INVALIDPARAMETERVALUEEXCEPTION"
ONLY_ONE = EXC + "GENERAL.ONLYONEIDENTIFIERALLOWEDEXCEPTION"
TOO_MANY = EXC + "GENERAL.MAXIMUMNUMBEROFRESULTSEXCEEDEDEXCEPTION"
NOT_FOUND = EXC + "GENERAL.ENTITYNOTFOUNDEXCEPTION"
NOT_UNIQUE = EXC + "CONTACTINFORMATION.CONTACTINFORMATIONNOTUNIQUEEXCEPTION"
UNIQUE = ("passport_number", "id_number")

LOADED = {  # one contact in the state before the first request
    "id": "0123456789ABCDEF0123456789ABCDEF",
    "number": "CI000111",
    "type": "PERSON",
    "first_name": "Louis",
    "last_name": "Kozior",
    "demographics": {"passport_number": "P1"},
    "emails_set": [{"type": "PERSONAL", "email_address": "louis@crm.com"}],
}
PROVIDERS = [
    {"id": "PROV1", "name": "Generic One", "alternative_code": "GP1"},
    {"id": "PROV2", "name": "Generic Two", "alternative_code": None},
]
PROVIDER_REFS = {  # identifier parameter -> provider id (None: no such provider)
    "id=PROV1": "PROV1",
    "name=Generic One": "PROV1",
    "alternative_code=GP1": "PROV1",
    "id=PROV2": "PROV2",
    "name=Generic Two": "PROV2",
    "id=PROV3": None,
    "alternative_code=GP2": None,
}
BAD_PROVIDER_REFS = {"PROV1": INVALID, "number=PROV1": INVALID, "id=": INVALID}

# -- provisioning requests ----------------------------------------------------------------
HOURS = [-7 * 24 - 3, -7 * 24 - 1, -7 * 24, -7 * 24 + 1, -7 * 24 + 5, -3 * 24, -1, 0, 6]
SCHEDULED = [
    "2024-05-31T09:00:00Z",
    "2024-06-01T09:00:00Z",
    "2024-06-01T11:00:00+02:00",  # the same instant as 09:00Z: a tie, broken by number
    "2024-06-01T08:59:59Z",
    "2024-06-01T10:00:00Z",  # after 11:00+02:00, though it sorts before it as text
    "2024-06-01T11:00:00+02:00",
    "2024-06-01T10:00:00Z",
    "2024-06-02T00:00:00-03:00",
    None,  # left out: defaults to the created date
]


def iso(at):
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def instant(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@st.composite
def provisioning_requests(draw):
    n = draw(st.sampled_from([0, 4, 7, 10, 12, 14]))
    numbers = draw(st.permutations(range(1, n + 1)))
    found = []
    for i in numbers:
        created = NOW + timedelta(hours=draw(st.sampled_from(HOURS)))
        offset = draw(st.booleans())
        r = {
            "number": f"PR{i}",
            "provider_id": draw(st.sampled_from(["PROV1", "PROV1", "PROV2"])),
            "subscription_number": draw(st.sampled_from(["S1", "S2", "S3"])),
            "account_number": draw(st.sampled_from(["AR1", "AR2", None])),
            "type": draw(st.sampled_from(["ACTIVATE", "DEACTIVATE"])),
            "life_cycle_state": draw(
                st.sampled_from(["PENDING", "PENDING", "PENDING", "COMPLETED", "CANCELLED"])
            ),
            # the same instant, sometimes written with an offset
            "created_date": (
                (created + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00")
                if offset
                else iso(created)
            ),
        }
        scheduled = draw(st.sampled_from(SCHEDULED))
        if scheduled:
            r["scheduled_date"] = scheduled
        found.append(r)
    return found


# -- contacts ------------------------------------------------------------------------------
NAMES = st.sampled_from(["Ann", "Bob", "Ng"])
PASSPORTS = st.sampled_from(["P1", "P2", "P3"])
ID_NUMBERS = st.sampled_from(["ID1", "ID2"])
EMAIL_SET = st.lists(
    st.fixed_dictionaries(
        {"email_address": st.sampled_from(["a@x.co", "b@y.org"])},
        optional={"type": st.just("PERSONAL")},
    ),
    min_size=1,
    max_size=2,
)
PAGE_KEYS = ("number", "type", "life_cycle_state", "created_date", "scheduled_date")
TEXT_FIELDS = ("title", "first_name", "middle_name", "last_name", "company_name", "notes")


def grouped(page):
    """A page grouped by subscription, groups in the order of their first request."""
    groups = {}
    for q in page:
        group = groups.setdefault(
            q["subscription_number"],
            {
                "subscription_number": q["subscription_number"],
                "account_number": q["account_number"],
                "pending_provisioning_requests_set": [],
            },
        )
        group["pending_provisioning_requests_set"].append(
            {k: q[k] for k in PAGE_KEYS} | {"executed_date": None}
        )
    return list(groups.values())


def name_of(c):
    """PERSON: the non-empty first, middle and last names joined by one space."""
    if c["type"] == "COMPANY":
        return c["company_name"]
    return " ".join(p for p in (c["first_name"], c["middle_name"], c["last_name"]) if p) or None


def blank(value):
    return value is None or (isinstance(value, str) and value.strip() == "")


def names_missing(c):
    """The first mandatory name a contact of its type lacks, or None."""
    needed = ("first_name", "last_name") if c["type"] == "PERSON" else ("company_name",)
    return next((n for n in needed if blank(c[n])), None)


def project(rep):
    """What the machine compares of a contact (item ids are random: left out)."""
    demo = rep["demographics"]
    out = {k: rep[k] for k in ("id", "number", "type", "life_cycle_state", *TEXT_FIELDS)}
    out["passport_number"] = demo["passport_number"]
    out["id_number"] = demo["id_number"]
    out["emails"] = [(e["type"], e["email_address"]) for e in rep["emails_set"]]
    return out


class CrmcomMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.app = create_app({"seed": 1, "validate_responses": True})
        self.client = self.app.test_client()
        self.now = NOW
        r = self.client.put("/__sim/clock", json={"now": iso(NOW)})
        assert r.status_code == 200
        self.token = None
        self.contacts = []  # model contacts, oldest first
        self.requests = []

    @initialize(requests=provisioning_requests())
    def load(self, requests):
        doc = {
            "users": [LOGIN],
            "token_ttl_seconds": 365 * 24 * 3600,  # the clock moves; the token must not expire
            "contacts": [LOADED],
            "provisioning_providers": PROVIDERS,
            "provisioning_requests": requests,
        }
        r = self.client.put("/__sim/state/crmcom", json=doc)
        assert r.status_code == 200, r.get_json()
        self.requests = [{**r, "scheduled_date": r.get("scheduled_date")} for r in requests]
        for r in self.requests:
            r["scheduled_date"] = r["scheduled_date"] or r["created_date"]
        self.contacts = [
            {
                "id": LOADED["id"],
                "number": LOADED["number"],
                "type": "PERSON",
                "life_cycle_state": "MARKETING",
                **dict.fromkeys(TEXT_FIELDS),
                "first_name": "Louis",
                "last_name": "Kozior",
                "passport_number": "P1",
                "id_number": None,
                "emails": [("PERSONAL", "louis@crm.com")],
            }
        ]
        r = self.client.post(f"{BASE}/authentication/token", json=LOGIN)
        self.token = r.get_json()["data"]["token"]

    # -- helpers --------------------------------------------------------------------------
    def answer(self, r):
        assert r.status_code == 200
        body = r.get_json()
        return body["status"]["code"], body["data"]

    def expect_error(self, r, codes):
        code, data = self.answer(r)
        assert code in codes, (code, codes)
        assert data is None

    def find(self, field, value):
        for c in self.contacts:
            if c.get(field) == value:
                return c
        return None

    def clash(self, contact, current):
        """The first uniqueness field whose value another contact already has."""
        for field in UNIQUE:
            value = contact[field]
            if blank(value) or (current is not None and current[field] == value):
                continue
            if any(c[field] == value for c in self.contacts if c is not current):
                return field
        return None

    def identifier_choices(self):
        refs = [("number", "CI999999"), ("passport_number", "P9"), ("id", "F" * 32)]
        for c in self.contacts:
            refs += [("number", c["number"]), ("id", c["id"])]
            refs += [(f, c[f]) for f in UNIQUE if c[f]]
        return refs

    # -- contacts -------------------------------------------------------------------------
    @rule(
        kind=st.sampled_from(["PERSON", "PERSON", "COMPANY", "COMPANY", "ROBOT", None, ""]),
        names=st.fixed_dictionaries(
            {},
            optional={
                "first_name": NAMES | st.just(""),
                "middle_name": NAMES | st.just(""),
                "last_name": NAMES,
                "company_name": st.sampled_from(["Acme", "Initech"]),
                "title": st.just("Dr"),
            },
        ),
        demographics=st.fixed_dictionaries(
            {}, optional={"passport_number": PASSPORTS, "id_number": ID_NUMBERS}
        ),
        emails=st.none() | EMAIL_SET,
        emails_in_demographics=st.booleans(),
        fill_names=st.booleans(),
    )
    def create(self, kind, names, demographics, emails, emails_in_demographics, fill_names):
        body = {"token": self.token, **names}
        if fill_names:  # mostly give the names the type needs
            body.setdefault("first_name", "Ann")
            body.setdefault("last_name", "Lee")
            body.setdefault("company_name", "Acme")
        if kind is not None:
            body["type"] = kind
        demo = dict(demographics)
        if emails is not None:
            (demo if emails_in_demographics else body)["email_set"] = emails
        if demo:
            body["demographics"] = demo
        r = self.client.post(f"{BASE}/contact_information/create", json=body)
        new = {
            "type": kind,
            "life_cycle_state": "MARKETING",
            **{f: body.get(f) for f in TEXT_FIELDS},
            "passport_number": demographics.get("passport_number"),
            "id_number": demographics.get("id_number"),
            "emails": [(e.get("type"), e["email_address"]) for e in emails or []],
        }
        if blank(kind):
            self.expect_error(r, {MANDATORY})
            return
        if kind not in ("PERSON", "COMPANY"):
            self.expect_error(r, {INVALID})
            return
        if names_missing(new):
            self.expect_error(r, {MANDATORY})
            return
        if self.clash(new, None):
            event("create: not unique")
            self.expect_error(r, {NOT_UNIQUE})
            return
        code, data = self.answer(r)
        assert code == "OK"
        highest = max(int(c["number"][2:]) for c in self.contacts)
        new["number"] = f"CI{highest + 1:06d}"
        new["id"] = data["id"]
        assert len(new["id"]) == 32 and new["id"] == new["id"].upper()
        int(new["id"], 16)
        assert new["id"] not in {c["id"] for c in self.contacts}
        assert project(data) == new
        assert data["name"] == name_of(new)
        self.contacts.append(new)
        event("create: OK")

    @rule(
        data=st.data(),
        changes=st.fixed_dictionaries(
            {},
            optional={
                "first_name": NAMES | st.none(),
                "middle_name": NAMES | st.none(),
                "last_name": NAMES | st.none(),
                "company_name": st.sampled_from(["Acme", "Initech", None]),
                "title": st.sampled_from(["Mr", None]),
                "notes": st.sampled_from(["vip", None]),
                "type": st.sampled_from(["PERSON", "COMPANY"]),
            },
        ),
        demographics=st.one_of(
            st.just("absent"),
            st.none(),
            st.fixed_dictionaries(
                {},
                optional={
                    "passport_number": PASSPORTS | st.none(),
                    "id_number": ID_NUMBERS | st.none(),
                },
            ),
        ),
        emails=st.sampled_from(["absent", None]) | EMAIL_SET,
        identifier_shape=st.sampled_from(["one", "one", "one", "one", "none", "two"]),
    )
    def update(self, data, changes, demographics, emails, identifier_shape):
        field, value = data.draw(st.sampled_from(self.identifier_choices()), label="identifier")
        identifier = {"none": {}, "one": {field: value}}.get(
            identifier_shape, {field: value, "number" if field != "number" else "id": "x"}
        )
        body = {"token": self.token, "contact_information_identifier": identifier, **changes}
        if demographics != "absent":
            body["demographics"] = demographics
        if emails != "absent":
            body["email_set"] = emails
        r = self.client.post(f"{BASE}/contact_information/update", json=body)
        if not identifier:
            self.expect_error(r, {MANDATORY})
            return
        if len(identifier) > 1:
            self.expect_error(r, {ONLY_ONE})
            return
        current = self.find(field, value)
        if current is None:
            event("update: not found")
            self.expect_error(r, {NOT_FOUND})
            return
        new = {**current, **changes}
        if demographics is None:
            new["passport_number"] = new["id_number"] = None
        elif demographics != "absent":
            new.update(demographics)
        if emails is None:
            new["emails"] = []
        elif emails != "absent":
            new["emails"] = [
                *current["emails"],
                *((e.get("type"), e["email_address"]) for e in emails),
            ]
        if names_missing(new):
            event("update: names missing")
            self.expect_error(r, {MANDATORY})
            return
        if self.clash(new, current):
            event("update: not unique")
            self.expect_error(r, {NOT_UNIQUE})
            return
        code, got = self.answer(r)
        assert code == "OK"
        assert project(got) == new
        assert got["name"] == name_of(new)
        current.update(new)
        event("update: OK")

    @rule(data=st.data(), fields_set=st.sampled_from([None, "name,number", "emails_set"]))
    def show(self, data, fields_set):
        field, value = data.draw(st.sampled_from(self.identifier_choices()), label="identifier")
        query = {"token": self.token, "contact_information_identifier": f"{field}={value}"}
        if fields_set:
            query["fields_set"] = fields_set
        r = self.client.get(f"{BASE}/contact_information/show", query_string=query)
        contact = self.find(field, value)
        if contact is None:
            self.expect_error(r, {NOT_FOUND})
            return
        code, got = self.answer(r)
        assert code == "OK"
        if fields_set == "name,number":
            assert got == {"number": contact["number"], "name": name_of(contact)}
        elif fields_set == "emails_set":
            assert [(e["type"], e["email_address"]) for e in got["emails_set"]] == contact["emails"]
            assert list(got) == ["emails_set"]
        else:
            assert project(got) == contact
            assert got["name"] == name_of(contact)

    # -- provisioning ---------------------------------------------------------------------
    @rule(
        provider=st.sampled_from([*PROVIDER_REFS] * 2 + [*BAD_PROVIDER_REFS, None]),
        size=st.sampled_from(["1", "2", "3", "5", "50", "1", "2", "0", "51", "-1", "x", None]),
        offset=st.sampled_from(["0", "1", "2", "3", "5", "20", "0", "1", "-1", "1.5", None]),
    )
    def get_pending(self, provider, size, offset):
        query = {"token": self.token}
        for name, value in (
            ("provisioning_provider_identifier", provider),
            ("number_of_results", size),
            ("offset", offset),
        ):
            if value is not None:
                query[name] = value
        r = self.client.get(
            f"{BASE}/provisioning/generic_provisioning_requests/get_pending", query_string=query
        )
        event("get_pending called")
        if None in (provider, size, offset):
            self.expect_error(r, {MANDATORY})
            return
        problems = set()
        if provider in BAD_PROVIDER_REFS:
            problems.add(BAD_PROVIDER_REFS[provider])
        if not size.lstrip("-").isdigit() or int(size) < 1:
            problems.add(INVALID)
        elif int(size) > 50:
            problems.add(TOO_MANY)
        if not offset.lstrip("-").isdigit() or int(offset) < 0:
            problems.add(INVALID)
        if problems:
            self.expect_error(r, problems)
            return
        provider_id = PROVIDER_REFS[provider]
        if provider_id is None:
            self.expect_error(r, {NOT_FOUND})
            return
        page = self.eligible(provider_id)[int(offset) : int(offset) + int(size)]
        code, data = self.answer(r)
        assert code == "OK"
        assert data == {"subscriptions_set": grouped(page)}
        event(f"get_pending: {len(page)} on the page")

    @rule(
        provider=st.sampled_from(["id=PROV1", "alternative_code=GP1", "name=Generic Two"]),
        size=st.integers(1, 4),
    )
    def page_through(self, provider, size):
        self.check_listing(provider, size)

    def check_listing(self, provider, size):
        """Offset 0, then increased by the number retrieved, until an empty page (CC-PAGE-1):
        every page is exactly the model's."""
        expected = self.eligible(PROVIDER_REFS[provider])
        offset = 0
        while True:
            r = self.client.get(
                f"{BASE}/provisioning/generic_provisioning_requests/get_pending",
                query_string={
                    "token": self.token,
                    "provisioning_provider_identifier": provider,
                    "number_of_results": str(size),
                    "offset": str(offset),
                },
            )
            code, data = self.answer(r)
            assert code == "OK"
            page = expected[offset : offset + size]
            assert data == {"subscriptions_set": grouped(page)}
            if not page:
                break
            offset += len(page)
        event(f"page_through: {len(expected)} eligible")

    def eligible(self, provider_id):
        """The provider's PENDING requests created at most 7 days ago, oldest scheduled first."""
        cutoff = self.now - timedelta(days=7)
        return sorted(
            (
                q
                for q in self.requests
                if q["provider_id"] == provider_id
                and q["life_cycle_state"] == "PENDING"
                and instant(q["created_date"]) >= cutoff
            ),
            key=lambda q: (instant(q["scheduled_date"]), q["number"]),
        )

    @rule(
        seconds=st.sampled_from([60, 3600, 4 * 3600, 24 * 3600]),
        provider=st.sampled_from(["id=PROV1", "id=PROV2"]),
        size=st.sampled_from([3, 50]),
    )
    def advance_clock(self, seconds, provider, size):
        """Move the frozen clock; the provider's listing before and after must follow."""
        self.check_listing(provider, size)
        r = self.client.post("/__sim/clock/advance", json={"seconds": seconds})
        assert r.status_code == 200
        self.now += timedelta(seconds=seconds)
        self.check_listing(provider, size)

    # -- comparisons ----------------------------------------------------------------------
    @invariant()
    def contacts_match_model(self):
        state = self.client.get("/__sim/state/crmcom").get_json()
        assert [project(c) for c in state.get("contacts", [])] == self.contacts

    def teardown(self):
        assert self.app.extensions["crmsim"].response_problems == []


CrmcomMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
test_crmcom_machine = CrmcomMachine.TestCase
