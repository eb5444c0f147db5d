"""The served OpenAPI document: FastAPI's, with the error answers every operation can give written down once.

Every error the API returns is `{"detail": …}`: a sentence, or FastAPI's list of field errors for a body or
query that does not validate. Rather than repeat that on each route, the spec gains it here for every
operation that does not already describe the status code more precisely."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM = "Problem"
_ERRORS = {
    "400": "the request cannot be understood (a malformed cursor, body or header)",
    "401": "no valid API token or console session",
    "403": "the caller's role or region does not allow it (or a console request without its header)",
    "404": "no such thing, or not one the caller may see",
    "409": "the thing's state does not allow it now (already claimed, resolved, …)",
    "413": "the body is too large",
    "422": "the body or a parameter is invalid: `detail` says where",
    "429": "too many requests or failed sign-ins; try again later",
}
_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}},
                                        {"type": "object"}]}},
    "description": "an error: a sentence, or a list of field errors",
}


def install(app: FastAPI) -> None:
    """Make `app.openapi()` return the spec with the common error answers (built once, then cached)."""

    def spec() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, routes=app.routes, description=app.description)
        doc.setdefault("components", {}).setdefault("schemas", {})[PROBLEM] = _PROBLEM_SCHEMA
        problem = {"application/json": {"schema": {"$ref": f"#/components/schemas/{PROBLEM}"}}}
        for operations in doc.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for code, description in _ERRORS.items():
                    found = responses.get(code)
                    if found is None:
                        responses[code] = {"description": description, "content": problem}
                    elif code == "422" or "content" not in found:
                        # FastAPI documents 422 as its field-error list; ours can also be a sentence.
                        found["content"] = problem
        app.openapi_schema = doc
        return doc

    app.openapi = spec  # type: ignore[method-assign]
