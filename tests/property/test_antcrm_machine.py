"""AntCRM as a state machine: the simulator over HTTP and a plain dict model, side by side.

The model follows the rules and documented choices of docs/vendors/antcrm.md:
duplicate checks on add-contact/add-lead, PID-/CID-/LID- numbering, History lines, tags,
first-key-only update targets with append-only lists, notes, and the automatic email/SMS
with the org's trial SMS counter. Emails, phones, passports and contactIds come from small
pools so that duplicates and matches happen often.
"""

import json
import re

from helpers import expect
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from simulator import create_app

NOW = "2024-06-01T12:00:00Z"
ORG = "acme"
USERS = ["owner@acme.vn", "Sales@Acme.vn"]
TRIAL_SMS = 3
LISTENERS = {
    "wh-1": {
        "listener_id": "wh-1",
        "org_id": ORG,
        "default_tag": "webhook",
        "contact_source": "Website",
        "lead_source": "Ads",
        "auto_email": {"enabled": True, "subject": "Welcome", "body": "Thanks!"},
        "auto_sms": {"enabled": True, "content": "Hi from ACME"},
    },
    "wh-2": {
        "listener_id": "wh-2",
        "org_id": ORG,
        "contact_source": "Shop",
        "auto_email": {"enabled": False, "subject": "Unused", "body": "Unused"},
        "auto_sms": {"enabled": True, "content": "Hey"},
    },
}
LOADED = [  # customers in the state before the first request
    {
        "customerId": "PID-5",
        "org_id": ORG,
        "name": "Old",
        "passport": "P2",
        "contactId": "EXT-1",
        "emails": [{"type": "Work", "value": "old@x.co"}],
        "tags": ["legacy"],
        "source": "Import",
    },
    {
        "customerId": "CID-5",
        "org_id": ORG,
        "name": "Old Co",
        "phones": [{"type": None, "value": "0905-111"}],
        "source": "Import",
    },
    {
        "customerId": "LID-2",
        "org_id": ORG,
        "name": "Lan",
        "emails": [{"type": None, "value": "b@y.org"}],
        "phones": [{"type": None, "value": "0905 000 001"}],
        "contactId": "EXT-2",
        "source": "Import",
    },
]
KIND = {"PID": "contact", "CID": "account", "LID": "lead"}
PREFIX = {kind: prefix for prefix, kind in KIND.items()}

NAMES = st.sampled_from(["Huy", " huy", "Lan", "LAN ", "Old", "Mai"])
EMAILS = st.sampled_from(["a@x.co", " A@X.co", "b@y.org", "old@x.co", "", "not-an-email", "a@x"])
PHONES = st.sampled_from(["0905 000 001", "0905000001", "0905-111", "(090) 5111", "0977"])
PASSPORTS = st.sampled_from(["P1", " P1 ", "p1", "P2"])
CONTACT_IDS = st.sampled_from(["EXT-1", "EXT-1 ", "ext-1", "EXT-2"])
TAGS = st.sampled_from(["vip", "vip, new", " new ,, vip ", "", ",", "legacy"])
SHORT = st.sampled_from(["Nguyen", "CTO", "x"])


def entries(values):
    """emails/phones as the payload gives them: bare strings or {type, value} objects."""
    return st.lists(
        st.one_of(values, st.builds(lambda v: {"type": "Work", "value": v}, values)),
        min_size=1,
        max_size=2,
    )


COMPANY = st.fixed_dictionaries(
    {"name": st.sampled_from(["Old Co", "old co ", "Acme", "Initech", "ACME", ""])},
    optional={
        "customerId": st.sampled_from(["CID-5", "CID-1", "PID-5"]),  # a key on updates only
        "emails": entries(EMAILS),
        "phones": entries(PHONES),
    },
)


# -- normalisation (AC-NORM-1) --------------------------------------------------------------
def value_of(entry):
    return entry["value"] if isinstance(entry, dict) else entry


def provided(value):
    """null, blank strings and [] are "not provided"."""
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip() != ""
    if isinstance(value, list):
        return value != []
    return True


def trimmed(value):
    return value.strip() if provided(value) else None


def is_email(value):
    """AC-EMAIL-1: local@domain.tld, no blanks, one @."""
    return re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s.]+", value) is not None


def values(data, key):
    """The provided values of an emails/phones array, trimmed; emails that are not email
    addresses are not kept and count for nothing (AC-EMAIL-1)."""
    found = [value_of(e).strip() for e in data.get(key) or [] if provided(value_of(e))]
    return [v for v in found if is_email(v)] if key == "emails" else found


def norm_email(value):
    return value.strip().lower()


def norm_phone(value):
    return "".join(c for c in value if c.isdigit())


def norm_name(value):
    return value.strip().casefold()


def is_account(data):
    """``type`` 1 or a numeric string worth 1 is an Account; any other number or string is a
    Contact (AC-TYPE-1)."""
    value = data.get("type")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return False
    return value == 1


def tag_list(data):
    """``tag``: split on commas, trimmed, empties dropped; nothing left = not provided."""
    tag = data.get("tag")
    found = [t.strip() for t in tag.split(",") if t.strip()] if provided(tag) else []
    return found or None


@st.composite
def customer_data(draw, codes, adding):
    """The data of add-contact/add-lead (adding) or update-contact/update-lead."""
    data = {}
    if draw(st.integers(0, 4)) or not adding:  # add-* needs name; mostly give it
        if adding or draw(st.integers(0, 3)) == 0:  # updates rarely carry a name (a key)
            data["name"] = draw(NAMES)
    if not adding and draw(st.booleans()):
        data["customerId"] = draw(st.sampled_from([*codes, "PID-99", "LID-1", "CID-1"]))
    optional = {
        "contactId": CONTACT_IDS,
        "passport": PASSPORTS,
        "emails": entries(EMAILS),
        "phones": entries(PHONES),
        "tag": TAGS,
        "lastname": SHORT,
        "title": SHORT,
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            data[key] = draw(strategy)
    if draw(st.integers(0, 3)) == 0:
        data["type"] = draw(st.sampled_from([0, 1, 2, "1", " 1.0 ", "0", "Account"]))
    if draw(st.booleans()):
        data["companyContact"] = draw(COMPANY)
    if draw(st.integers(0, 12)) == 0:
        data["gender"] = "male"  # wrong type: the item is dropped
    return data


@st.composite
def note_data(draw, codes):
    data = {"body": draw(st.sampled_from(["Called back", "Sent quote", ""]))}
    key = draw(st.sampled_from(["customerId", "passport", "email", "emails", "phone", "phones"]))
    if key == "customerId":
        data[key] = draw(st.sampled_from([*codes, "PID-99"]))
    elif key == "passport":
        data[key] = draw(PASSPORTS)
    elif key == "email":
        data[key] = draw(EMAILS)
    elif key == "phone":
        data[key] = draw(PHONES)
    else:
        data[key] = draw(entries(EMAILS if key == "emails" else PHONES))
    if draw(st.booleans()):
        data["contactType"] = draw(st.sampled_from(["lead", "customer"]))
    return data


def items(codes):
    updates = st.tuples(
        st.sampled_from(["update-contact", "update-lead"]), customer_data(codes, adding=False)
    )
    return st.one_of(
        st.tuples(st.just("add-contact"), customer_data(codes, adding=True)),
        st.tuples(st.just("add-lead"), customer_data(codes, adding=True)),
        updates,
        updates,
        st.tuples(st.just("add-note"), note_data(codes)),
        st.tuples(
            st.just("send-sms"),
            st.fixed_dictionaries(
                {"content": st.sampled_from(["Promo", ""]), "phones": st.lists(PHONES, max_size=3)}
            ),
        ),
    )


class AntcrmMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.app = create_app({"seed": 1, "validate_responses": True})
        self.client = self.app.test_client()
        assert self.client.put("/__sim/clock", json={"now": NOW}).status_code == 200
        doc = {
            "orgs": [
                {
                    "org_id": ORG,
                    "users": USERS,
                    "sms_account_configured": False,
                    "trial_sms_remaining": TRIAL_SMS,
                }
            ],
            "listeners": list(LISTENERS.values()),
            "customers": LOADED,
        }
        r = self.client.put("/__sim/state/antcrm", json=doc)
        assert r.status_code == 200, r.get_json()
        self.trial = TRIAL_SMS
        self.outbox = []
        self.customers = []  # in creation (load) order
        for c in LOADED:
            self.customers.append(
                {
                    "code": c["customerId"],
                    "kind": KIND[c["customerId"][:3]],
                    "name": c["name"],
                    "lastname": None,
                    "title": None,
                    "passport": c.get("passport"),
                    "contactId": c.get("contactId"),
                    "emails": [e["value"] for e in c.get("emails", [])],
                    "phones": [p["value"] for p in c.get("phones", [])],
                    "tags": c.get("tags", []),
                    "source": c["source"],
                    "companyId": None,
                    "history": [],
                    "notes": [],
                }
            )

    # -- the model's lookups --------------------------------------------------------------
    def pool(self, pool):
        """The records of a pool, oldest first (lowest <n>; ties: created first)."""
        kinds = {"lead": ("lead",), "account": ("account",), "contact": ("contact",)}.get(
            pool, ("contact", "account")
        )
        found = [(int(c["code"][4:]), i, c) for i, c in enumerate(self.customers)]
        return [c for _, _, c in sorted(found, key=lambda t: t[:2]) if c["kind"] in kinds]

    def having(self, pool, key, wanted):
        """The oldest record of the pool whose ``key`` (normalised) is one of ``wanted``."""
        norm = {
            "customerId": lambda v: v,
            "contactId": str.strip,
            "passport": str.strip,
            "name": norm_name,
            "emails": norm_email,
            "phones": norm_phone,
        }[key]
        wanted = {norm(w) for w in wanted}
        field = "code" if key == "customerId" else key
        for c in self.pool(pool):
            have = c[field] if key in ("emails", "phones") else [c[field]]
            if any(h is not None and norm(h) in wanted for h in have):
                return c
        return None

    def duplicate(self, pool, data):
        """add-*: contactId → passport → each email → each phone, first that finds one."""
        steps = [("contactId", [trimmed(data.get("contactId"))])]
        steps.append(("passport", [trimmed(data.get("passport"))]))
        steps += [("emails", [e]) for e in values(data, "emails")]
        steps += [("phones", [p]) for p in values(data, "phones")]
        for key, wanted in steps:
            if wanted[0] is not None:
                found = self.having(pool, key, wanted)
                if found is not None:
                    return found
        return None

    # -- side effects ---------------------------------------------------------------------
    def take_sms(self):
        if self.trial > 0:
            self.trial -= 1
            return True
        return False

    def sms(self, listener, to, content, code, origin):
        self.outbox.append(
            {
                "kind": "sms",
                "to": to,
                "content": content,
                "customerId": code,
                "origin": origin,
                "listener_id": listener["listener_id"],
                "org_id": ORG,
            }
        )

    def history(self, record, kind, listener, sender):
        record["history"].append((kind, listener["listener_id"], sender))

    def next_code(self, kind):
        prefix = PREFIX[kind]
        numbers = [int(c["code"][4:]) for c in self.customers if c["code"].startswith(prefix)]
        return f"{prefix}-{max(numbers, default=0) + 1}"

    def company_for(self, listener, sender, company, by_code):
        """companyContact: an Account by (customerId on updates →) name → emails → phones,
        falling through; else a new Account when it has a name; else None."""
        steps = []
        if by_code and provided(company.get("customerId")):
            steps.append(("customerId", [company["customerId"].strip()]))
        if provided(company.get("name")):
            steps.append(("name", [company["name"]]))
        steps += [("emails", [e]) for e in values(company, "emails")]
        steps += [("phones", [p]) for p in values(company, "phones")]
        for key, wanted in steps:
            found = self.having("account", key, wanted)
            if found is not None:
                return found["code"]
        if not provided(company.get("name")):
            return None
        code = self.next_code("account")
        account = {
            "code": code,
            "kind": "account",
            "name": company["name"].strip(),
            **dict.fromkeys(("lastname", "title", "passport", "contactId", "companyId")),
            "emails": values(company, "emails"),
            "phones": values(company, "phones"),
            "tags": [],  # no default tag, and no auto email/SMS, for an auto-created Account
            "source": listener.get("contact_source"),
            "history": [],
            "notes": [],
        }
        self.history(account, "created", listener, sender)
        self.customers.append(account)
        return code

    # -- actions --------------------------------------------------------------------------
    def add(self, listener, sender, data, lead):
        if not provided(data.get("name")):
            return "ignored"
        pool = "lead" if lead else "customer"
        dup = self.duplicate(pool, data)
        if dup is not None:
            self.history(dup, "duplicate", listener, sender)
            return "duplicate"
        kind = "lead" if lead else ("account" if is_account(data) else "contact")
        company_id = None
        if kind == "contact" and data.get("companyContact"):
            company_id = self.company_for(listener, sender, data["companyContact"], False)
        code = self.next_code(kind)
        tags = tag_list(data)
        if tags is None:
            tags = [listener["default_tag"]] if listener.get("default_tag") else []
        record = {
            "code": code,
            "kind": kind,
            "name": data["name"].strip(),
            "lastname": trimmed(data.get("lastname")),
            "title": trimmed(data.get("title")),
            "passport": trimmed(data.get("passport")),
            "contactId": trimmed(data.get("contactId")),
            "emails": values(data, "emails"),
            "phones": values(data, "phones"),
            "tags": tags,
            "source": listener.get("lead_source" if lead else "contact_source"),
            "companyId": company_id,
            "history": [],
            "notes": [],
        }
        self.history(record, "created", listener, sender)
        self.customers.append(record)
        mail = listener["auto_email"]
        if mail["enabled"] and mail["subject"] and mail["body"] and record["emails"]:
            self.outbox.append(
                {
                    "kind": "email",
                    "to": record["emails"][0],
                    "subject": mail["subject"],
                    "body": mail["body"],
                    "customerId": code,
                    "listener_id": listener["listener_id"],
                    "org_id": ORG,
                }
            )
        auto = listener["auto_sms"]
        if auto["enabled"] and auto["content"] and record["phones"] and self.take_sms():
            self.sms(listener, record["phones"][0], auto["content"], code, "auto")
        return "created"

    def update(self, listener, sender, data, lead):
        keys = ("contactId", "passport", "emails", "phones", "customerId")
        if not any(
            provided(data.get(k)) and (k not in ("emails", "phones") or values(data, k))
            for k in keys
        ):
            return "ignored"
        pool = "lead" if lead else "customer"
        target = None
        for key in ("customerId", "contactId", "name", "emails", "phones", "passport"):
            wanted = (
                values(data, key)
                if key in ("emails", "phones")
                else [trimmed(data.get(key))]
                if provided(data.get(key))
                else []
            )
            if wanted:
                if not lead and key not in ("customerId", "contactId"):
                    # AC-UPD-1: by another key, type 1 looks among Accounts, else Contacts
                    pool = "account" if is_account(data) else "contact"
                target = self.having(pool, key, wanted)
                break
        if target is None:
            return "no target"
        for key in ("name", "lastname", "title", "passport", "contactId"):
            if provided(data.get(key)):
                target[key] = data[key].strip()
        for key, norm in (("emails", norm_email), ("phones", norm_phone)):
            for v in values(data, key):
                if norm(v) not in {norm(h) for h in target[key]}:
                    target[key].append(v)
        for tag in tag_list(data) or []:
            if tag not in target["tags"]:
                target["tags"].append(tag)
        if target["kind"] == "contact" and not lead and data.get("companyContact"):
            company_id = self.company_for(listener, sender, data["companyContact"], True)
            if company_id is not None:
                target["companyId"] = company_id
        self.history(target, "updated", listener, sender)
        return "updated"

    def add_note(self, data):
        if not provided(data.get("body")):
            return "ignored"
        pool = "lead" if data.get("contactType") == "lead" else "customer"
        if provided(data.get("customerId")):
            target = self.having(pool, "customerId", [data["customerId"].strip()])
        elif provided(data.get("passport")):
            target = self.having(pool, "passport", [data["passport"]])
        elif provided(data.get("email")) or values(data, "emails"):
            wanted = values({"emails": [data.get("email"), *(data.get("emails") or [])]}, "emails")
            target = self.having(pool, "emails", wanted)
        elif provided(data.get("phone")) or values(data, "phones"):
            wanted = values({"phones": [data.get("phone"), *(data.get("phones") or [])]}, "phones")
            target = self.having(pool, "phones", wanted)
        else:
            return "ignored"
        if target is None:
            return "no target"
        target["notes"].append(data["body"].strip())
        return "note"

    def send_sms(self, listener, data):
        phones = [p.strip() for p in data["phones"] if provided(p)]
        if not provided(data["content"]) or not phones:
            return "ignored"
        for phone in phones:
            if not self.take_sms():
                break
            self.sms(listener, phone, data["content"].strip(), None, "send-sms")
        return "sms"

    def apply(self, listener, sender, action, data):
        if action in ("add-contact", "add-lead"):
            return self.add(listener, sender, data, lead=action == "add-lead")
        if action in ("update-contact", "update-lead"):
            return self.update(listener, sender, data, lead=action == "update-lead")
        if action == "add-note":
            return self.add_note(data)
        return self.send_sms(listener, data)

    # -- rules ----------------------------------------------------------------------------
    @rule(
        data=st.data(),
        listener_id=st.sampled_from(["wh-1", "wh-1", "wh-2"]),
        sender=st.sampled_from(USERS + [" OWNER@acme.vn "]),
    )
    def post(self, data, listener_id, sender):
        codes = [c["code"] for c in self.customers]
        batch = data.draw(st.lists(items(codes), min_size=1, max_size=4), label="items")
        body = {
            "senderUser": sender,
            "data": [{"actionType": action, "data": d} for action, d in batch],
        }
        r = self.client.post(f"/antcrm/webhook/listener/{listener_id}", json=body)
        expect(r, 200, {"success": True})
        spelling = {u.lower(): u for u in USERS}[sender.strip().lower()]
        for action, d in batch:
            if d.get("gender") == "male":  # a value of the wrong type drops the item
                outcome = "ignored"
            else:
                outcome = self.apply(LISTENERS[listener_id], spelling, action, d)
            event(f"{action}: {outcome}")

    @rule(
        listener_id=st.sampled_from(["wh-1", "nope"]),
        sender=st.sampled_from([None, "", "nobody@acme.vn", 7, "owner@acme.vn"]),
        items=st.sampled_from([None, {}, "add-contact", []]),
    )
    def bad_envelope(self, listener_id, sender, items):
        body = {"data": items} if items is not None else {}
        if sender is not None:
            body["senderUser"] = sender
        r = self.client.post(f"/antcrm/webhook/listener/{listener_id}", data=json.dumps(body))
        if listener_id == "nope":
            expected = (404, "Listener not found")
        elif not provided(sender):
            expected = (400, "senderUser is required")
        elif sender != "owner@acme.vn":
            expected = (400, "senderUser not found")
        elif not isinstance(items, list):
            expected = (400, "data must be an array")
        else:
            expect(r, 200, {"success": True})
            return
        expect(r, expected[0], {"success": False, "message": expected[1]})

    # -- comparisons ----------------------------------------------------------------------
    @invariant()
    def customers_match_model(self):
        state = self.client.get("/__sim/state/antcrm").get_json()
        got = {
            c["customerId"]: {
                "code": c["customerId"],
                "kind": c["kind"],
                "name": c["name"],
                "lastname": c["lastname"],
                "title": c["title"],
                "passport": c["passport"],
                "contactId": c["contactId"],
                "emails": [e["value"] for e in c["emails"]],
                "phones": [p["value"] for p in c["phones"]],
                "tags": c["tags"],
                "source": c["source"],
                "companyId": c["companyId"],
                "history": [(h["type"], h["listener_id"], h["senderUser"]) for h in c["history"]],
                "notes": [n["body"] for n in c["notes"]],
            }
            for c in state["customers"]
        }
        assert got == {c["code"]: c for c in self.customers}
        assert state["orgs"][0]["trial_sms_remaining"] == self.trial

    @invariant()
    def outbox_matches_model(self):
        entries = self.client.get("/__sim/outbox", query_string={"vendor": "antcrm"}).get_json()
        got = [
            {k: v for k, v in e.items() if k not in ("id", "at", "vendor")}
            for e in entries["entries"]
        ]
        assert got == self.outbox

    def teardown(self):
        assert self.app.extensions["crmsim"].response_problems == []


AntcrmMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
test_antcrm_machine = AntcrmMachine.TestCase
