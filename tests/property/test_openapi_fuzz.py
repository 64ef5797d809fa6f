"""Schemathesis over the generated OpenAPI document: no 5xx, no answer outside its schema."""

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from simulator import create_app

app = create_app({"seed": 3})
schema = schemathesis.openapi.from_wsgi("/__sim/openapi.json", app)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_openapi_fuzz(case):
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
