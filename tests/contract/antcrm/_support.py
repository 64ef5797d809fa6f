"""AntCRM contract tests' shared vocabulary: the listener URL, two configured worlds (the
main one, ``load``, and a smaller one, ``load_acme``), the vendor document's samples,
``send`` (the raw response) and ``send_ok`` (answered 200 success), state readers."""

from helpers import expect

SENDER = "huy.nguyenviet@htklabs.com"
URL = "/antcrm/webhook/listener/L1"
NOW = "2024-06-01T12:00:00Z"
OK = {"success": True}
INVALID_JSON = {"success": False, "message": "Invalid JSON"}

ORG = {
    "org_id": "o1",
    "users": [SENDER, "Ops.Team@Example.com"],
    "groups": ["Nhom 1"],
    "stages": ["New", "Won"],
    "categories": ["UI Design"],
    "packages": ["Goi A"],
    "currencies": ["VND"],
}
# The users and groups the documented samples name, configured (AC-CONF-1 keeps only those).
SAMPLE_USERS = ["huy.nguyen@htklabs.com", "luyt.ngo@htklabs.com"]
SAMPLE_ORG = {
    **ORG,
    "users": [SENDER, "viethuy110@gmail.com", "nhanvien1@beeiq.co", "nhanvien2@beeiq.co"]
    + SAMPLE_USERS,
    "groups": ["Nhom 1", "Nhom 2", "Nhom test", "Phong Kinh Doanh"],
}
OTHER_ORG = {"org_id": "o2", "users": ["someone@other.org"], "stages": ["New"]}
LISTENER = {
    "listener_id": "L1",
    "org_id": "o1",
    "default_tag": "from-webhook",
    "contact_source": "Website",
    "lead_source": "Facebook Ads",
}

# -- the vendor document's samples, made valid JSON (GEN-JSON-1) --------------------------
ADD_CONTACT_SAMPLE = {
    "senderUser": SENDER,
    "data": [
        {
            "actionType": "add-contact",
            "data": {
                "contactType": "customer",
                "type": 0,
                "name": "Huy",
                "lastname": "Nguyen",
                "title": "This is title",
                "passport": "1945295865",
                "gender": 1,
                "bgInfo": "Thành viên AntBuddy",
                "dateOfBirth": "Fri Jan 01 1993 00:00:00 GMT+0700 (ICT)",
                "emails": [{"value": "huy.nguyen@htklabs.com"}],
                "phones": [{"value": "01234567890"}],
                "addresses": [
                    {
                        "street": "58 Ton That Dam",
                        "city": "Da Nang",
                        "state": "Thanh Khe",
                        "zip": "5100000",
                        "country": "VN",
                    }
                ],
                "websites": [{"value": "htk-inc.com"}],
                "permit": {"status": 1},
                "im": [{"protocol": "Facebook", "value": "Huy Nguyen Viet"}],
            },
        }
    ],
}
ADD_LEAD_SAMPLE = {
    "senderUser": SENDER,
    "data": [
        {
            "actionType": "add-lead",
            "data": {
                "type": 0,
                "name": "Huy",
                "lastname": "Nguyen",
                "title": "This is title",
                "passport": "1945295865",
                "gender": 1,
                "bgInfo": "Thành viên AntBuddy",
                "dateOfBirth": "Fri Jan 01 1993 00:00:00 GMT+0700 (ICT)",
                "emails": [{"value": "huy.nguyen@htklabs.com"}],
                "phones": [{"value": "01234567890"}],
                "addresses": [
                    {
                        "street": "58 Ton That Dam",
                        "city": "Da Nang",
                        "state": "Thanh Khe",
                        "zip": "5100000",
                        "country": "VN",
                    }
                ],
                "permit": {"status": 1},
                "websites": [{"value": "htk-inc.com"}],
                "im": [{"protocol": "Facebook", "value": "Huy Nguyen Viet"}],
                "tag": "webhook",
                "contactId": "1234567897",
                "cusFields": [{"name": "Referred By", "value": "Cong Nguyen"}],
                "companyLead": "GOOGLE",
            },
        }
    ],
}
UPDATE_LEAD_SAMPLE = {
    "senderUser": SENDER,
    "data": [
        {
            "actionType": "update-lead",
            "data": {
                "type": 0,
                "name": "Huy",
                "lastname": "Nguyen Viet",
                "title": "This is title",
                "passport": "1945295865",
                "gender": 1,
                "bgInfo": "Thành viên của AntBuddy",
                "dateOfBirth": "Fri Jan 02 1993 00:00:00 GMT+0700 (ICT)",
                "emails": [{"value": "huy.nguyen@htklabs.com"}],
                "phones": [{"value": "01234567890"}],
                "addresses": [
                    {
                        "street": "58 Ton That Dam",
                        "city": "Da Nang",
                        "state": "Thanh Khe",
                        "zip": "5100000",
                        "country": "VN",
                    }
                ],
                "websites": [{"value": "htk-inc.com"}],
                "im": [{"protocol": "Facebook", "value": "Huy Nguyen Viet"}],
                "tag": "webhook",
                "permit": {"status": 2},
                "contactId": "1234567897",
                "customerId": "LID-123",
                "cusFields": [{"name": "Referred By", "value": "Cong Nguyen"}],
                "companyLead": "GOOGLE",
            },
        }
    ],
}
UPDATE_CONTACT_SAMPLE = {
    "senderUser": SENDER,
    "data": [
        {
            "actionType": "update-contact",
            "data": {
                "name": "Huy",
                "lastname": "Nguyen Viet",
                "title": "This is title",
                "passport": "1945295865",
                "gender": 1,
                "bgInfo": "Thành viên AntBuddy",
                "dateOfBirth": "Fri Jan 02 1993 00:00:00 GMT+0700 (ICT)",
                "emails": [{"value": "huy.nguyen@htklabs.com"}],
                "phones": [{"value": "01234567890"}],
                "addresses": [
                    {
                        "street": "58 Ton That Dam",
                        "city": "Da Nang",
                        "state": "Thanh Khe",
                        "zip": "5100000",
                        "country": "VN",
                    }
                ],
                "websites": [{"value": "htk-inc.com"}],
                "im": [{"protocol": "Facebook", "value": "Huy Nguyen Viet"}],
                "tag": "webhook",
                "permit": {"status": 3, "group": "Nhom test"},
                "customerId": "PID-678",
                "cusFields": [{"name": "Referred By", "value": "Cong Nguyen"}],
                "companyContact": {
                    "customerId": "CID-123",
                    "emails": [{"value": "dong.nguyen@htklabs.com"}],
                    "phones": [{"value": "01234567833"}],
                    "addresses": [
                        {
                            "street": "58 Ton That Dam",
                            "city": "Da Nang",
                            "state": "Thanh Khe",
                            "zip": "5100000",
                            "country": "VN",
                        }
                    ],
                    "websites": [{"value": "htk-inc.com"}],
                    "name": "GOOGLE",
                },
            },
        }
    ],
}
ADD_NOTE_CONTACT_SAMPLE = {
    "senderUser": SENDER,
    "data": [
        {
            "actionType": "add-note",
            "data": {
                "body": "This is body of Note",
                "email": "huy.nguyen@htklabs.com",
                "phone": "0123456789",
                "passport": "0123469988",
                "customerId": "LID-345",
                "contactType": "lead",
                "model": "contact",
                "tag": "webhook",
                "permit": {
                    "status": 4,
                    "users": ["huy.nguyen@htklabs.com", "luyt.ngo@htklabs.com"],
                },
            },
        }
    ],
}
ADD_NOTE_DEAL_SAMPLE = {
    "senderUser": SENDER,
    "data": [
        {
            "actionType": "add-note",
            "data": {
                "body": "This is body of Note",
                "name": "Booking-ID1135",
                "dealId": "11358",
                "model": "deal",
            },
        }
    ],
}
ADD_DEAL_SAMPLE = {
    "senderUser": "viethuy110@gmail.com",
    "data": [
        {
            "actionType": "add-deal",
            "data": {
                "dealId": "1234567890",
                "name": "Booking-ID #0003",
                "value": 50000,
                "currency": "VND",
                "description": "This is desciption",
                "stage": "",
                "closeDate": 1482470382793,
                "category": "UI Design",
                "package": "Goi A",
                "owner_opportunity": {
                    "users": ["nhanvien1@beeiq.co", "nhanvien2@beeiq.co"],
                    "groups": ["Nhom 1", "Nhom 2"],
                },
                "dealWith": {
                    "type": 0,
                    "name": "Nguyen viet huy",
                    "lastname": "",
                    "title": "",
                    "customerId": "LID-123",
                    "contactType": "lead",
                    "passport": "",
                    "gender": "",
                    "dateOfBirth": "",
                    "emails": [{"value": "huy@gmail.com"}],
                    "phones": [{"value": "0987654321"}],
                    "addresses": [{"street": "street", "city": "city", "country": "country"}],
                    "websites": [],
                    "im": [],
                    "tag": "",
                },
                "contacts": [
                    {
                        "type": 0,
                        "name": "Quoc Phong",
                        "lastname": "",
                        "title": "",
                        "customerId": "LID-123",
                        "contactType": "lead",
                        "passport": "",
                        "gender": "",
                        "dateOfBirth": "",
                        "emails": [{"value": "phong@gmail.com"}],
                        "phones": [],
                        "addresses": [],
                        "websites": [],
                        "im": [],
                    }
                ],
                "permit": {
                    "status": 4,
                    "users": ["huy.nguyen@htklabs.com", "luyt.ngo@htklabs.com"],
                },
                "cusFields": [{"name": "Booking source", "value": "web"}],
            },
        }
    ],
}
ADD_TICKET_SAMPLE = {
    "senderUser": SENDER,
    "data": [
        {
            "actionType": "add-ticket",
            "data": {
                "contactType": "lead",
                "title": "title",
                "body": "This is body of Ticket",
                "email": "huy.nguyen@htklabs.com",
                "phone": "0123456789",
                "passport": "0123469988",
                "contactId": "1234567897",
                "customerId": "LID-123",
                "groupName": "Phong Kinh Doanh",
                "slaName": "custom",
                "channel": "Contact Form",
                "tag": "webhook",
            },
        }
    ],
}
SEND_SMS_SAMPLE = {
    "senderUser": SENDER,
    "data": [
        {
            "actionType": "send-sms",
            "data": {"content": "This is content", "phones": ["0333456789", "098765431"]},
        }
    ],
}


# -- helpers ------------------------------------------------------------------------------
def customer(code, kind=None, org="o1", **fields):
    """A customer record for the state document."""
    return {"customerId": code, "org_id": org, **({"kind": kind} if kind else {}), **fields}


def load(sim, customers=(), deals=(), tickets=(), orgs=None, listeners=None, **listener):
    sim.freeze(NOW)
    return sim.put_state(
        {
            "orgs": orgs if orgs is not None else [ORG, OTHER_ORG],
            "listeners": listeners if listeners is not None else [{**LISTENER, **listener}],
            "customers": list(customers),
            "deals": list(deals),
            "tickets": list(tickets),
        },
        vendor="antcrm",
    )


def send(client, *items, sender=SENDER, url=URL, **kwargs):
    """The listener request with ``items``; the raw response."""
    return client.post(url, json={"senderUser": sender, "data": list(items)}, **kwargs)


def send_ok(client, *items, sender=SENDER, url=URL, **kwargs):
    """The listener request with ``items``, answered 200 success; the response."""
    r = send(client, *items, sender=sender, url=url, **kwargs)
    expect(r, 200, OK)
    return r


def item(action, **data):
    return {"actionType": action, "data": data}


def state(sim):
    return sim.state("antcrm")


def customers(sim):
    return state(sim)["customers"]


def codes(sim):
    return [c["customerId"] for c in customers(sim)]


def find(sim, code, org="o1"):
    [found] = [c for c in customers(sim) if c["customerId"] == code and c["org_id"] == org]
    return found


def history(sim, code):
    return [h["type"] for h in find(sim, code)["history"]]


def deals(sim):
    return state(sim)["deals"]


def tickets(sim):
    return state(sim)["tickets"]


def outbox(sim, kind=None):
    entries = sim.outbox(vendor="antcrm", **({"kind": kind} if kind else {}))
    return [{k: v for k, v in e.items() if k not in ("id", "at", "vendor")} for e in entries]


def created_line(kind="created"):
    return {
        "type": kind,
        "listener_id": "L1",
        "senderUser": SENDER,
        "at": NOW,
        "text": {
            "created": "Created from webhook listener L1",
            "duplicate": "Duplicate data received from webhook listener L1; nothing was created",
            "updated": "Updated from webhook listener L1",
        }[kind],
    }


DEAL_STATE = [
    {"dealId": "11358", "org_id": "o1", "name": "Booking-ID1135"},
    {"dealId": "7", "org_id": "o1", "name": "Other"},
    {"dealId": "3", "org_id": "o1", "name": "booking-id1135"},
]


def deal_item(**data):
    return item("add-deal", **{"name": "D", "stage": "New", "dealWith": {"name": "C"}, **data})


# == send-sms =================================================================================
def sms(to, content, origin="send-sms", customer_id=None):
    return {
        "kind": "sms",
        "to": to,
        "content": content,
        "customerId": customer_id,
        "origin": origin,
        "listener_id": "L1",
        "org_id": "o1",
    }


# == automatic side effects (AC-AUTO-1 to AC-AUTO-3) =========================================
AUTO = {
    "auto_email": {"enabled": True, "subject": "Welcome", "body": "Hello from us"},
    "auto_sms": {"enabled": True, "content": "Hi!"},
}


def email(to, code):
    return {
        "kind": "email",
        "to": to,
        "subject": "Welcome",
        "body": "Hello from us",
        "customerId": code,
        "listener_id": "L1",
        "org_id": "o1",
    }


# -- a smaller world: one org of acme.vn, auto e-mail on (AC-CONF-*, AC-OUTCOME-1, ...) ----
ACME_SENDER = "owner@acme.vn"
ACME_ORG = {"org_id": "o1", "users": [ACME_SENDER, "Sales@Acme.vn"], "stages": ["New"]}
ACME_LISTENER = {
    "listener_id": "L1",
    "org_id": "o1",
    "default_tag": "webhook",
    "contact_source": "Website",
    "lead_source": "Ads",
    "auto_email": {"enabled": True, "subject": "Hi", "body": "Welcome"},
}


def load_acme(sim, customers=(), deals=(), org=None, **listener):
    sim.freeze(NOW)
    return sim.put_state(
        {
            "orgs": [{**ACME_ORG, **(org or {})}],
            "listeners": [{**ACME_LISTENER, **listener}],
            "customers": list(customers),
            "deals": list(deals),
        },
        vendor="antcrm",
    )


def kinds(sim):
    return [(c["customerId"], c["kind"]) for c in customers(sim)]


def outcomes(sim):
    """The outcomes of the last journaled listener request, without the item index."""
    entry = sim.journal(vendor="antcrm")[-1]
    return [(o["result"], o["id"]) for o in entry["outcomes"]]
