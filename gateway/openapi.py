"""The OpenAPI document, built from the operations the API views declare."""

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "status"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "status": {"type": "integer"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}


# The session cookie the login sets; CSRF-protected calls also send X-CSRF-Token (from
# GET /api/session). `x-roles` on an operation lists the roles that may call it.
SECURITY_SCHEMES = {
    "session": {"type": "apiKey", "in": "cookie", "name": "zc_session"},
}


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    body: type[BaseModel] | dict | None = None
    body_media: str = "application/json"
    response: type[BaseModel] | dict | None = None
    # answers other than 200 and the errors, by status (the 202 of a sign-in that needs its
    # SMS code)
    answers: dict[int, type[BaseModel]] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    query: tuple[str, ...] = ()  # optional string query parameters
    # what a 200 answers with: a file's real types (application/pdf, image/png, …) when the
    # response is a file rather than JSON
    response_media: tuple[str, ...] = ("application/json",)
    # who may call it: None for anyone, () for anyone signed in, else these roles; taken
    # from the view's login_required when the declaration decorates the view
    roles: tuple[str, ...] | None = None


@dataclass
class ApiSpec:
    title: str
    version: str
    operations: list[Operation] = field(default_factory=list)

    def operation(self, method: str, path: str, summary: str, tag: str, **kwargs: Any):
        """Declare an operation; the decorated view is returned unchanged."""
        op = Operation(method.lower(), path, summary, tag, **kwargs)
        self.operations.append(op)

        def keep(view):
            if "roles" not in kwargs and getattr(view, "needs_login", False):
                op.roles = tuple(getattr(view, "roles", ()))
            return view

        return keep

    def document(self) -> dict:
        paths: dict[str, dict] = {}
        schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
        for op in self.operations:
            paths.setdefault(op.path, {})[op.method] = self._operation(op, schemas)
        return {
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": self.version},
            "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
        }

    def _operation(self, op: Operation, schemas: dict) -> dict:
        item: dict[str, Any] = {
            "summary": op.summary,
            "tags": [op.tag],
            "operationId": _operation_id(op),
            "responses": {"200": {"description": "OK", **_answer(op, schemas)}},
        }
        if op.roles is not None:
            item["security"] = [{"session": []}]
            if op.roles:
                item["x-roles"] = list(op.roles)
        params = [p.strip("{}") for p in op.path.split("/") if p.startswith("{")]
        parameters = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in params
        ] + [{"name": q, "in": "query", "schema": {"type": "string"}} for q in op.query]
        if parameters:
            item["parameters"] = parameters
        if op.body is not None:
            item["requestBody"] = {"required": True, **_content(op.body, schemas, op.body_media)}
        for status, model in op.answers.items():
            item["responses"][str(status)] = {"description": "OK", **_content(model, schemas)}
        for status in (*op.errors, 503):
            item["responses"][str(status)] = {
                "description": "Error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        return item


def _answer(op: Operation, schemas: dict) -> dict:
    if op.response is None:
        return {}
    content = {}
    for media in op.response_media:
        content |= _content(op.response, schemas, media)["content"]
    return {"content": content}


def _content(
    model: type[BaseModel] | dict | None, schemas: dict, media: str = "application/json"
) -> dict:
    if model is None:
        return {}
    if isinstance(model, dict):
        schema = model
    else:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"content": {media: {"schema": schema}}}


def _operation_id(op: Operation) -> str:
    words = [w.strip("{}") for w in op.path.strip("/").split("/")]
    return "_".join([op.method, *words])
