"""BOTW as a state machine: the simulator over HTTP and a plain dict model, side by side."""

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from simulator import create_app

H = {"Authorization": "Bearer K"}
LISTINGS = st.sampled_from(["1", "2"])
EMAILS = st.sampled_from(["ann@x.co", "ANN@x.co ", "bob@y.org", "cy@z.net"])
PHONES = st.sampled_from(["5551112222", "(555) 111-2222", "+1 555 333 4444", "5559990000"])
NAMES = st.sampled_from(["Ann", "ann", "Bob", "Cy Lee"])


def norm_email(e):
    return e.strip().lower() if e else None


def digits(p):
    return "".join(c for c in p if c.isdigit()) if p else None


class BotwMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.app = create_app({"seed": 1, "validate_responses": True})
        self.client = self.app.test_client()
        r = self.client.put("/__sim/state/botw", json={"api_keys": {"K": ["1", "2"]}})
        assert r.status_code == 200
        self.model = {}  # contact_id -> {listing, first, last, email, phone}
        self.next_id = 1

    def _find(self, listing, email, phone):
        for cid in sorted(self.model):
            c = self.model[cid]
            if c["listing"] == listing and email and norm_email(c["email"]) == norm_email(email):
                return cid
        for cid in sorted(self.model):
            c = self.model[cid]
            if c["listing"] == listing and phone and c["phone"] == digits(phone):
                return cid
        return None

    def _insert(self, listing, first, email, phone):
        self.model[self.next_id] = {
            "listing": listing,
            "first": first,
            "email": email.strip() if email else None,
            "phone": digits(phone),
        }
        self.next_id += 1

    @rule(listing=LISTINGS, first=NAMES, email=st.none() | EMAILS, phone=st.none() | PHONES)
    def create(self, listing, first, email, phone):
        data = {k: v for k, v in {"first_name": first, "email": email, "phone": phone}.items() if v}
        r = self.client.post(f"/crm/{listing}", data=data, headers=H)
        if not email and not phone:
            assert r.status_code == 400
            return
        assert r.status_code == 201, r.get_json()
        self._insert(listing, first, email, phone)

    @rule(listing=LISTINGS, first=NAMES, email=st.none() | EMAILS, phone=st.none() | PHONES)
    def upsert(self, listing, first, email, phone):
        data = {k: v for k, v in {"first_name": first, "email": email, "phone": phone}.items() if v}
        r = self.client.put(f"/crm/{listing}", data=data, headers=H)
        if not email and not phone:
            assert r.status_code == 400
            return
        target = self._find(listing, email, phone)
        if target is None:
            assert r.status_code == 201
            self._insert(listing, first, email, phone)
        else:
            assert r.status_code == 200
            c = self.model[target]
            c["first"] = first
            if email:
                c["email"] = email.strip()
            if phone:
                c["phone"] = digits(phone)

    @precondition(lambda self: self.model)
    @rule(data=st.data(), first=NAMES)
    def update_by_id(self, data, first):
        cid = data.draw(st.sampled_from(sorted(self.model)))
        listing = self.model[cid]["listing"]
        r = self.client.put(
            f"/crm/{listing}", data={"id": str(cid), "first_name": first}, headers=H
        )
        assert r.status_code == 200
        self.model[cid]["first"] = first

    @rule(listing=LISTINGS, email=st.none() | EMAILS, phone=st.none() | PHONES)
    def delete(self, listing, email, phone):
        data = {k: v for k, v in {"email": email, "phone": phone}.items() if v}
        r = self.client.delete(f"/crm/{listing}", data=data, headers=H)
        if not data:
            assert r.status_code == 400
            return
        doomed = [
            cid
            for cid, c in self.model.items()
            if c["listing"] == listing
            and (email is None or norm_email(c["email"]) == norm_email(email))
            and (phone is None or c["phone"] == digits(phone))
        ]
        assert r.status_code == (202 if doomed else 404)
        for cid in doomed:
            del self.model[cid]

    @rule(listing=LISTINGS, email=st.none() | EMAILS, name=st.none() | NAMES)
    def search(self, listing, email, name):
        params = {k: v for k, v in {"email": email, "name": name}.items() if v}
        r = self.client.get(f"/crm/{listing}", query_string=params, headers=H)
        if not params:
            assert r.status_code == 400
            return

        def matches(c):
            return (email is None or norm_email(c["email"]) == norm_email(email)) and (
                name is None or (c["first"] or "").lower() == name.lower()
            )

        expected = [
            cid
            for cid in sorted(self.model)
            if self.model[cid]["listing"] == listing and matches(self.model[cid])
        ]
        if expected:
            assert r.status_code == 200
            assert [x["contact_id"] for x in r.get_json()["data"]["results"]] == expected
        else:
            assert r.status_code == 404

    @invariant()
    def state_matches_model(self):
        contacts = self.client.get("/__sim/state/botw").get_json()["contacts"]
        got = {
            c["contact_id"]: {
                "listing": c["listing_id"],
                "first": c["first_name"],
                "email": c["email"],
                "phone": c["phone"],
            }
            for c in contacts
        }
        assert got == self.model

    def teardown(self):
        assert self.app.extensions["crmsim"].response_problems == []


BotwMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
test_botw_machine = BotwMachine.TestCase
