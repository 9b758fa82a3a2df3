"""Schemathesis against /api/v1/openapi.json: generated requests find no failure (bounded)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.orders_helpers import add_po
from tests.test_orders_api import _token

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def test_openapi_document_holds_against_generated_requests(app, client):
    user, auth = _token()
    add_po(user.vendor_id, "2JK3S9VC")
    add_po(user.vendor_id, "SCHEMA01", due_in_hours=-2)
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 4 + 6 + 2  # purchase orders + dashboards + invoice photos
    for operation in operations:
        @settings(max_examples=30, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            # WSGI calls get the raw body: ask for it uncompressed (HTTP clients decode it).
            case.call_and_validate(headers={**auth, "Accept-Encoding": "identity"},
                                   checks=CHECKS)

        check()
