"""Property-based API checks: schemathesis drives every operation from /openapi.json.

No generated input may cause a 5xx, and every response must match what the schema
documents (status codes, content types, bodies).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CheckFunction
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from reelstack.app import create_app
from reelstack.runtime import Runtime
from tests.conftest import create_viewer, sign_in


@pytest.mark.parametrize("identity", ["anonymous", "viewer", "admin"])
def test_every_operation_honours_its_schema(runtime: Runtime, identity: str) -> None:
    """Every operation, called anonymously, as a signed-in viewer (profile picked) and as
    an admin (token): no 5xx, and every response as documented."""
    app = create_app(runtime=runtime)
    with TestClient(app) as client:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = []
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                raise AssertionError(f"unusable operation in /openapi.json: {result.err()}")
            operations.append(result.ok())
        assert len(operations) >= 8
        if identity != "anonymous":
            create_viewer(client, f"{identity}@schema.example", role=identity)
        auth: dict[str, str] = {}  # the current operation's headers (read by check())
        for operation in operations:
            # A fresh sign-in per operation: an earlier one may have signed out (logout,
            # logout-all, account deletion are operations too).
            headers: dict[str, str] = {}
            if identity != "anonymous":
                try:
                    headers = sign_in(client, f"{identity}@schema.example")["headers"]
                except AssertionError:  # the account was deleted by DELETE /v1/me
                    create_viewer(client, f"{identity}@schema.example", role=identity)
                    headers = sign_in(client, f"{identity}@schema.example")["headers"]
            auth.clear()
            auth.update(headers)

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
                excluded: list[CheckFunction] = [positive_data_acceptance]
                if identity != "anonymous":
                    # Our own credentials are sent: "ignored auth" probes do not apply.
                    excluded.append(ignored_auth)
                case.call_and_validate(headers=dict(auth) or None, excluded_checks=excluded)

            check()
