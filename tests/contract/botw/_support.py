"""BOTW contract tests' shared vocabulary: the key, its header, the answers, ``search``
(a raw response) and ``contacts`` (the stored contacts)."""

KEY = "K-123"
H = {"Authorization": f"Bearer {KEY}"}
CREATED = {"status": "success", "message": "New contact successfully updated."}
NOT_FOUND = {"status": "error", "message": "Contact not found."}
REQUIRED = {"status": "error", "message": "Email or phone is required."}
BAD_EMAIL = {"status": "error", "message": "Invalid email address."}
BAD_PHONE = {"status": "error", "message": "Invalid phone number."}
BLACKLISTED = {
    "status": "error",
    "message": "The provided email or phone number has been blacklisted.",
}


def contacts(sim):
    return sim.state("botw")["contacts"]


def search(client, listing="123", **params):
    return client.get(f"/crm/{listing}", query_string=params, headers=H)


# -- a contact created first ---------------------------------------------------------------
def create_ok(client, listing="123", **data):
    """POST a contact, asserting BOTW created it (201)."""
    r = client.post(f"/crm/{listing}", data=data, headers=H)
    assert r.status_code == 201, r.get_json()


# ids that are no contact's id as BOTW writes ids (BW-GET-2: `id` exactly): a leading zero,
# digits of other scripts (str.isdigit takes them; int() reads `١`, refuses `²`), a sign,
# a decimal, and more digits than Python reads as a number
NOT_AN_ID = ["01", "\u0661", "\u00b2", "+1", "1.0", "9" * 5000]
