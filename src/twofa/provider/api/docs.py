"""OpenAPI descriptions for routes whose parameters we parse by hand (contract section 1.3)."""

from __future__ import annotations

from typing import Any

API_KEY_HEADER = {
    "name": "X-Authy-API-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "API key (or `api_key` in the query or form body)",
}


def doc(
    *,
    query: dict[str, dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    required: list[str] | None = None,
) -> dict[str, Any]:
    """An ``openapi_extra`` block: the API key header, query parameters and a JSON/form body."""
    extra: dict[str, Any] = {"parameters": [API_KEY_HEADER]}
    for name, schema in (query or {}).items():
        extra["parameters"].append(
            {"name": name, "in": "query", "required": False, "schema": schema}
        )
    if body is not None:
        schema = {"type": "object", "properties": body}
        if required:
            schema["required"] = required
        extra["requestBody"] = {
            "required": False,
            "content": {
                "application/json": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
            },
        }
    return extra


STRING = {"type": "string"}
BOOL = {"type": "boolean"}
INT = {"type": "integer"}
OBJECT = {"type": "object", "additionalProperties": {"type": "string"}}
