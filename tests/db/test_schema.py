"""Property-based API checks: schemathesis drives every operation from /openapi.json.

No generated input may cause a 5xx, and every response must match what the schema
documents (status codes, content types, bodies).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import positive_data_acceptance

from reelstack.app import create_app
from reelstack.runtime import Runtime


def test_every_operation_honours_its_schema(runtime: Runtime) -> None:
    app = create_app(runtime=runtime)
    with TestClient(app):
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = []
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                raise AssertionError(f"unusable operation in /openapi.json: {result.err()}")
            operations.append(result.ok())
        assert len(operations) >= 8
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=30,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: schemathesis.Case[Any]) -> None:
                # Opaque values (a cursor, a video body) cannot be described by a schema,
                # so a schema-valid one may still be refused with a documented 400/422.
                case.call_and_validate(excluded_checks=[positive_data_acceptance])

            check()
