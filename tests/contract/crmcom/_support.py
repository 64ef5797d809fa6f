"""CRM.COM contract tests' shared vocabulary: the base URL, the loaded state, expected
envelopes (error, mandatory, invalid, ...), request helpers (``post``, ``show``, ``pending``:
raw responses) and state readers."""

import copy

BASE = "/crmapi/rest/v2"
NOW = "2024-06-01T12:00:00Z"
KEY = "EE73C0AE64524371B5DDEFF5F7BB2192"
KEY_HEADER = {"Authorization": "Basic RUU3M0MwQUU2NDUyNDM3MUI1RERFRkY1RjdCQjIxOTI6"}
LOGIN = {"username": "api.user", "password": "s3cret", "organisation": "ACME"}
LOUIS_ID = "0123456789ABCDEF0123456789ABCDEF"
KOZIOR_ID = "FEDCBA9876543210FEDCBA9876543210"

OK_NULL = {"code": "OK", "message": None, "description": None}
OK_EMPTY = {"code": "OK", "message": "", "description": ""}


# -- expected bodies --------------------------------------------------------------------------
def error(code, message, description=""):
    return {
        "status": {
            "code": "COM.CRM.EXCEPTION." + code,
            "message": message,
            "description": description,
        },
        "data": None,
    }


def mandatory(param):
    return error(
        "GENERAL.MANDATORYPARAMETERMISSINGEXCEPTION",
        "A mandatory parameter is missing.",
        f"The parameter '{param}' is mandatory.",
    )


def invalid(param, reason):
    description = f"The parameter '{param}' {reason}." if param else reason
    return error(
        "GENERAL.INVALIDPARAMETERVALUEEXCEPTION", "A parameter has an invalid value.", description
    )


def only_one(param):
    return error(
        "GENERAL.ONLYONEIDENTIFIERALLOWEDEXCEPTION",
        "Only one identifier field is allowed.",
        f"The parameter '{param}' must specify exactly one field.",
    )


def not_found(entity, field, value):
    return error(
        "GENERAL.ENTITYNOTFOUNDEXCEPTION",
        "The entity was not found.",
        f"No {entity} has {field} '{value}'.",
    )


def not_unique(field):
    return error(
        "CONTACTINFORMATION.CONTACTINFORMATIONNOTUNIQUEEXCEPTION",
        "The contact information is not unique.",
        f"Another contact information has the same {field}.",
    )


def invalid_token(description):
    return error(
        "AUTHENTICATION.INVALIDTOKENEXCEPTION",
        "The authentication token is invalid, released or expired.",
        description,
    )


def invalid_credentials(description):
    return error(
        "AUTHENTICATION.INVALIDCREDENTIALSEXCEPTION",
        "The provided credentials are invalid.",
        description,
    )


def bad_body(description):
    return error(
        "GENERAL.INVALIDREQUESTBODYEXCEPTION",
        "The request body must be a JSON object.",
        description,
    )


TOKEN_REQUIRED = invalid_token("A token is required.")
TOKEN_UNKNOWN = invalid_token("The token is not recognised.")
TOKEN_RELEASED = invalid_token("The token has been released.")
TOKEN_EXPIRED = invalid_token("The token has expired.")


# -- state --------------------------------------------------------------------------------
def blank_demographics(**given):
    demo = dict.fromkeys(
        [
            "gender",
            "id_number",
            "passport_number",
            "social_security_number",
            "date_of_birth",
            "country_of_residence",
            "id_issued_by_country",
            "passport_issued_by_country",
            "industry",
            "industry_sector",
        ]
    )
    demo.update(given)
    return demo


UDFS = {  # udf_string_1..16, udf_float_1..7 (CC-C2)
    **{f"udf_string_{i}": None for i in range(1, 17)},
    **{f"udf_float_{i}": None for i in range(1, 8)},
}

LOUIS = {
    "id": LOUIS_ID,
    "number": "CI000111",
    "type": "PERSON",
    "life_cycle_state": "MARKETING",
    "title": "Mr",
    "first_name": "Louis",
    "middle_name": None,
    "last_name": "Kozior",
    "company_name": None,
    "vat_registration_number": None,
    "registration_number": None,
    "notes": "Family",
    "organizational_unit": 0,
    "preferred_language": "EN",
    "category": {"name": "Contact Category"},
    "owned_by_group": None,
    "privacy_level": None,
    "demographics": blank_demographics(
        gender="MALE",
        id_number="ID111",
        passport_number="P111",
        social_security_number="SSN111",
        date_of_birth={"day": 1, "month": 1, "year": 1980},
        country_of_residence={"name": "CYPRUS"},
    ),
    "addresses_set": [
        {
            "id": "A" * 32,
            "type": "HOME",
            "postal_code": "0001",
            "street_name": "Address",
            "street_number": "01",
            "floor": 1,
            "apartment_number": "001",
            "area": "Area",
            "town_city": "City",
            "district": "District",
            "municipality": "Municipality",
            "country": {"two_character_code": "CY"},
            "po_box": "00011",
            "po_box_postal_code": "ABC111",
        }
    ],
    "phones_set": [{"id": "B" * 32, "type": "LANDLINE", "number": "123456"}],
    "emails_set": [{"id": "C" * 32, "type": "PERSONAL", "email_address": "louis@crm.com"}],
    **UDFS,
    "udf_string_1": "gold",
    "udf_float_1": 2.5,
}
KOZIOR_LTD = {
    "id": KOZIOR_ID,
    "number": "CI000112",
    "type": "COMPANY",
    "life_cycle_state": "FINANCIAL",
    "title": None,
    "first_name": None,
    "middle_name": None,
    "last_name": None,
    "company_name": "Kozior Ltd",
    "vat_registration_number": "VAT112",
    "registration_number": "REG112",
    "notes": None,
    "organizational_unit": 0,
    "preferred_language": None,
    "category": None,
    "owned_by_group": None,
    "privacy_level": None,
    "demographics": blank_demographics(social_security_number="SSN112"),
    "addresses_set": [],
    "phones_set": [],
    "emails_set": [],
    **UDFS,
}


def louis_data(**changes):
    data = copy.deepcopy(LOUIS)
    data.update(changes)
    keys = list(data)
    ordered = {k: data[k] for k in keys[:4]}
    ordered["name"] = None
    ordered.update({k: data[k] for k in keys[4:]})
    ordered["name"] = name_of(ordered)
    return ordered


def name_of(c):
    if c["type"] == "COMPANY":
        return c["company_name"]
    return " ".join(c[k] for k in ("first_name", "middle_name", "last_name") if c[k]) or None


def as_data(contact):
    keys = list(contact)
    data = {k: contact[k] for k in keys[:4]}
    data["name"] = name_of(contact)
    data.update({k: contact[k] for k in keys[4:]})
    return data


def request(number, scheduled, created="2024-05-30T00:00:00Z", **extra):
    return {
        "number": number,
        "provider_id": "PROV1",
        "subscription_number": "S1",
        "account_number": "AR1",
        "type": "ACTIVATE_SUBSCRIPTION",
        "life_cycle_state": "PENDING",
        "created_date": created,
        "scheduled_date": scheduled,
        "executed_date": None,
        **extra,
    }


STATE = {
    "users": [dict(LOGIN)],
    "web_api_keys": [{"key": KEY, "organisation": "ACME"}],
    "tokens": [],
    "token_ttl_seconds": 7200,
    "uniqueness_fields": ["passport_number", "id_number"],
    "contacts": [LOUIS, KOZIOR_LTD],
    "provisioning_providers": [
        {"id": "PROV1", "name": "Generic One", "alternative_code": "GP1"},
        {"id": "PROV2", "name": "Generic Two", "alternative_code": None},
    ],
    "provisioning_requests": [],
}


def conforms(schemas, name, instance):
    assert schemas.validate(f"crmcom/{name}", instance) == []


def show(client, **params):
    return client.get(BASE + "/contact_information/show", query_string=params)


def pending(client, **params):
    return client.get(
        BASE + "/provisioning/generic_provisioning_requests/get_pending", query_string=params
    )


def get(client, path, **params):
    return client.get(BASE + path, query_string=params)


def post(client, path, body, **kwargs):
    return client.post(BASE + path, json=body, **kwargs)


def contacts(sim):
    return sim.state("crmcom")["contacts"]


P = "contact_information_identifier"
ALLOWED = (
    "id, number, id_number, passport_number, social_security_number, "
    "vat_registration_number, registration_number"
)


# -- POST contact_information/create (CC-CREATE-1 to CC-CREATE-4, CC-UNIQ-1) ----------------
DOCUMENT_SAMPLE = {
    "token": "{{token}}",
    "type": "PERSON",
    "title": "Mr",
    "first_name": "Customer",
    "middle_name": "Customer",
    "last_name": "Customer",
    "category_identifier": {"name": "Contact Category"},
    "owned_by_group_identifier": {"name": "Main Group"},
    "privacy_level_identifier": {"number": "8"},
    "notes": "Family",
    "demographics": {
        "gender": "FEMALE",
        "id_number": "ABC123456",
        "passport_number": "ABC123456",
        "social_security_number": "ABC123456",
        "country_of_residence_identifier": {"name": "CYPRUS"},
        "id_issued_by_country_identifier": {"name": "CYPRUS"},
        "passport_issued_by_country_identifier": {"name": "GREECE"},
        "industry_identifier": {"name": "Industry"},
        "industry_sector_identifier": {"name": "FOREX"},
        "date_of_birth": {"day": 1, "month": 1, "year": 1980},
        "address_set": [
            {
                "type": "HOME",
                "postal_code": "0001",
                "street_name": "Address",
                "street_number": "01",
                "floor": 1,
                "apartment_number": "001",
                "area": "Area",
                "town_city": "City",
                "district": "District",
                "municipality": "Municipality",
                "country_identifier": {"two_character_code": "CY"},
                "po_box": "00011",
                "po_box_postal_code": "ABC111",
            }
        ],
        "phone_set": [{"type": "LANDLINE", "number": "123456"}],
        "email_set": [{"type": "PERSONAL", "email_address": "123456@crm.com"}],
    },
    "fields_set": "first_name,last_name,demographics,email_set",
}


def create(client, token, **body):
    return post(client, "/contact_information/create", {"token": token, **body})


PERSON = {"type": "PERSON", "first_name": "A", "last_name": "B"}


# -- GET provisioning/generic_provisioning_requests/get_pending (CC-PEND-1 to CC-PEND-4) ---------
PENDING_STATE_REQUESTS = [
    request("PR05", "2024-06-03T09:00:00Z", subscription_number="S2", account_number="AR2"),
    request("PR01", "2024-06-01T09:00:00Z"),
    request("PR03", "2024-06-02T09:00:00Z", subscription_number="S2", account_number="AR2"),
    request("PR02", "2024-06-02T09:00:00Z"),
    request("PR04", "2024-06-02T10:00:00Z", subscription_number="S3", account_number=None),
    request("PR06", "2024-06-04T09:00:00Z"),
    request("PR07", "2024-06-05T09:00:00Z", created="2024-05-25T12:00:00Z"),  # exactly 7 days
    request("PRX1", "2024-05-31T09:00:00Z", created="2024-05-25T11:59:59Z"),  # 7 days + 1 s
    request("PRX2", "2024-05-31T09:00:00Z", life_cycle_state="COMPLETED", executed_date=NOW),
    request("PRX3", "2024-05-31T09:00:00Z", life_cycle_state="REJECTED"),
    request("PRX4", "2024-05-31T09:00:00Z", provider_id="PROV2"),
]


def page(client, token, size, offset, provider="alternative_code=GP1", **extra):
    return pending(
        client,
        token=token,
        provisioning_provider_identifier=provider,
        number_of_results=str(size),
        offset=str(offset),
        **extra,
    )


PP = "provisioning_provider_identifier"


# -- the state document ---------------------------------------------------------------------------
FULL_STATE = {
    **STATE,
    "tokens": [
        {
            "token": "T1",
            "issued_at": "2024-06-01T11:00:00Z",
            "released_at": None,
            "username": "api.user",
            "organisation": "ACME",
            "web_api_key": None,
            "unit": None,
        }
    ],
    "provisioning_requests": PENDING_STATE_REQUESTS,
}
