"""The web client's TypeScript types are generated from the live OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from reelstack.openapi_ts import render_typescript

GENERATED = Path(__file__).parents[2] / "web-src" / "src" / "api" / "schema.gen.ts"


def test_committed_client_types_are_current(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert GENERATED.read_text(encoding="utf-8") == render_typescript(spec), (
        "web-src/src/api/schema.gen.ts is stale: run `make api-client`"
    )


def test_render_maps_json_schema_to_typescript() -> None:
    spec = {
        "components": {
            "schemas": {
                "Kind": {"type": "string", "enum": ["a", "b"]},
                "Thing": {
                    "description": "A thing.\n\nMore words.",
                    "type": "object",
                    "required": ["id", "kind", "tags"],
                    "properties": {
                        "id": {"type": "string"},
                        "kind": {"$ref": "#/components/schemas/Kind"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "size": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                        "meta": {"type": "object", "additionalProperties": {"type": "number"}},
                        "either": {
                            "type": "array",
                            "items": {"anyOf": [{"type": "string"}, {"type": "boolean"}]},
                        },
                    },
                },
            }
        }
    }
    out = render_typescript(spec)
    assert 'export type Kind = "a" | "b";' in out
    assert "/** A thing. */\nexport interface Thing {" in out
    assert "  id: string;\n  kind: Kind;\n  tags: string[];\n" in out
    assert "  size?: number | null;\n" in out
    assert "  meta?: Record<string, number>;\n" in out
    assert "  either?: (string | boolean)[];\n" in out
