"""TypeScript types generated from the app's OpenAPI document (for web-src/).

The web client imports these, and a test fails when the committed file is stale, so the
front-end and the API cannot drift apart silently. Run ``make api-client`` to refresh.
"""

from __future__ import annotations

import json
from typing import Any

HEADER = (
    "// Generated from /openapi.json by `make api-client` (reelstack.openapi_ts).\n"
    "// Do not edit by hand: a test fails when this file is stale.\n"
)


def _ts_type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema or "oneOf" in schema:
        parts = [_ts_type(s) for s in schema.get("anyOf", schema.get("oneOf", []))]
        return " | ".join(dict.fromkeys(parts))
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        item = _ts_type(schema.get("items", {}))
        return f"({item})[]" if " | " in item else f"{item}[]"
    if kind in ("integer", "number"):
        return "number"
    if kind == "string":
        return "string"
    if kind == "boolean":
        return "boolean"
    if kind == "null":
        return "null"
    if kind == "object" and "properties" not in schema:
        extra = schema.get("additionalProperties")
        value = _ts_type(extra) if isinstance(extra, dict) and extra else "unknown"
        return f"Record<string, {value}>"
    return "unknown"


def _declaration(name: str, schema: dict[str, Any]) -> str:
    summary = str(schema.get("description", "")).strip().splitlines()
    doc = f"/** {summary[0]} */\n" if summary else ""
    if "properties" not in schema:
        return f"{doc}export type {name} = {_ts_type(schema)};\n"
    required = set(schema.get("required", []))
    lines = [f"{doc}export interface {name} {{"]
    for prop, sub in schema["properties"].items():
        optional = "" if prop in required else "?"
        lines.append(f"  {prop}{optional}: {_ts_type(sub)};")
    lines.append("}\n")
    return "\n".join(lines)


def render_typescript(spec: dict[str, Any]) -> str:
    """One TypeScript declaration per component schema, in name order."""
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    body = "\n".join(_declaration(name, schemas[name]) for name in sorted(schemas))
    return f"{HEADER}\n{body}"
