"""Routes that describe themselves: ``ApiSpec.route`` registers a Flask view *and* records its
OpenAPI operation, so the document at ``/api/v1/openapi.json`` is generated from the code.

Why not a library: flask-smorest/apispec speak marshmallow, flask-openapi3 and spectree bring
their own request objects and validation error formats, and the registry needs its own
problem+json errors, token scopes and per-role whitelists. What is left to generate is small:
paths from the URL rules, parameters from the path converters and the query models, and
schemas from pydantic's ``models_json_schema`` (JSON Schema 2020-12, which OpenAPI 3.1 uses
unchanged). The same decorator parses and validates the request with those models, so the
document cannot drift from what the views accept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Literal

from flask import Blueprint, Response, current_app, g, request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError
from pydantic.json_schema import models_json_schema
from pydantic_core import from_json

from registry.db import MAX_ID
from registry.exceptions import NotFound, RegistryError, ValidationError
from registry.web.errors import TITLES

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
Scope = Literal["read", "write"]
BodyKind = Literal["json", "multipart"]

RULE_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")

# 405: Werkzeug answers it (not 404) when a path exists for another method but an id in it is
# out of range, e.g. POST /batches/10**12/decisions, because GET /batches/<id>/decisions exists.
ERROR_STATUSES_READ = (401, 403, 404, 405, 422, 429)
ERROR_STATUSES_WRITE = (400, 401, 403, 404, 405, 409, 413, 422, 429)
EXTRA_TITLES = {401: "Unauthorized", 415: "Unsupported media type"}


class BadRequest(RegistryError):
    status = 400


class InputError(ValidationError):
    """A request that does not fit its model: ``fields`` holds pydantic's error types,
    ``messages`` its messages."""

    def __init__(self, message: str, exc: PydanticError) -> None:
        fields: dict[str, str] = {}
        messages: dict[str, str] = {}
        for error in exc.errors(include_url=False, include_input=False):
            loc = ".".join(str(part) for part in error["loc"]) or "body"
            fields.setdefault(loc, error["type"])
            messages.setdefault(loc, error["msg"])
        super().__init__(message, fields=fields)
        self.messages = messages


@dataclass
class Operation:
    method: Method
    rule: str
    endpoint: str
    summary: str
    description: str
    tag: str
    scope: Scope | None
    body: type[BaseModel] | None = None
    body_kind: BodyKind = "json"
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    conditional: bool = False
    links: bool = False
    roles: tuple[str, ...] = ()
    errors: tuple[int, ...] = field(default_factory=tuple)
    # A response that is not a model (a GeoJSON file): its media type and JSON Schema.
    media: tuple[str, dict[str, Any]] | None = None


def _bounded_path_ints(kwargs: dict[str, Any]) -> None:
    # Ids that cannot exist in an INTEGER column would overflow PostgreSQL's parameter: 404.
    for value in kwargs.values():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            raise NotFound("no such object")


def _parse_query(model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(request.args.to_dict())
    except PydanticError as exc:
        raise InputError("invalid query parameters", exc) from None


def _parse_json(model: type[BaseModel]) -> BaseModel:
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise BadRequest("send the body as application/json",
                         fields={"body": "expected Content-Type: application/json"})
    raw = request.get_data(cache=False)  # 413 beyond MAX_CONTENT_LENGTH
    try:
        data = from_json(raw, allow_inf_nan=False)
    except ValueError as exc:
        raise BadRequest("the body is not valid JSON", fields={"body": str(exc)}) from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object", fields={"body": "expected an object"})
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        raise InputError("invalid input", exc) from None


def _parse_multipart(model: type[BaseModel]) -> BaseModel:
    if request.mimetype != "multipart/form-data":
        raise BadRequest("send the body as multipart/form-data",
                         fields={"body": "expected Content-Type: multipart/form-data"})
    data: dict[str, Any] = request.form.to_dict()  # 413 beyond MAX_CONTENT_LENGTH
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    g.api_filenames = {}
    for name, upload in request.files.items():
        # One byte past the limit is enough for the service to say "too large".
        data[name] = upload.read(limit + 1)
        g.api_filenames[name] = upload.filename or ""
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        raise InputError("invalid input", exc) from None


def uploaded_filename(name: str) -> str:
    """The client's file name of a multipart field, as sent: the service refuses invisible
    characters with a message rather than storing another name than the client's."""
    return str(g.get("api_filenames", {}).get(name, ""))


def _json_response(result: Any, op: Operation) -> Response:
    """A view returns its response model, optionally with extra headers, or None (204)."""
    if isinstance(result, Response):
        return result
    headers: dict[str, str] = {}
    if isinstance(result, tuple):
        result, headers = result
    if result is None:
        return Response(status=204, headers=headers)
    assert op.response is not None and isinstance(result, op.response), op.endpoint
    response = Response(result.model_dump_json(), status=op.status, headers=headers,
                        mimetype="application/json")
    if op.conditional and request.method == "GET":
        response.add_etag()
        response.headers["Cache-Control"] = "private, no-cache"
        response.make_conditional(request)
    return response


class ApiSpec:
    """Collects operations of one blueprint and renders them as an OpenAPI 3.1 document."""

    def __init__(self, bp: Blueprint, *, title: str, version: str, description: str,
                 authorize: Callable[[Scope | None], None]) -> None:
        self.bp = bp
        self.title = title
        self.version = version
        self.description = description
        self.authorize = authorize
        self.operations: list[Operation] = []

    def route(
        self, method: Method, rule: str, *, summary: str, tag: str, scope: Scope | None = "read",
        body: type[BaseModel] | None = None, body_kind: BodyKind = "json",
        query: type[BaseModel] | None = None, response: type[BaseModel] | None = None,
        status: int = 200, conditional: bool = False, links: bool = False,
        roles: tuple[str, ...] = (), errors: tuple[int, ...] | None = None,
        media: tuple[str, dict[str, Any]] | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            op = Operation(
                method=method, rule=rule, endpoint=view.__name__, summary=summary,
                description=(view.__doc__ or "").strip(), tag=tag, scope=scope, body=body,
                body_kind=body_kind, query=query, response=response, status=status,
                conditional=conditional, links=links, roles=roles, media=media,
                errors=errors if errors is not None else (
                    ERROR_STATUSES_READ if method == "GET" else ERROR_STATUSES_WRITE),
            )

            @wraps(view)
            def wrapped(**kwargs: Any) -> Response:
                _bounded_path_ints(kwargs)
                self.authorize(op.scope)
                if op.query is not None:
                    kwargs["query"] = _parse_query(op.query)
                if op.body is not None:
                    parse = _parse_json if op.body_kind == "json" else _parse_multipart
                    kwargs["body"] = parse(op.body)
                return _json_response(view(**kwargs), op)

            self.bp.add_url_rule(rule, view.__name__, wrapped, methods=[method])
            self.operations.append(op)
            return wrapped

        return decorator

    # ------------------------------------------------------------ the document

    def document(self, server_url: str) -> dict[str, Any]:
        keys: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = []
        from registry.api.schemas import Problem

        keys.append((Problem, "serialization"))
        for op in self.operations:
            for model in (op.body, op.query):
                if model is not None:
                    keys.append((model, "validation"))
            if op.response is not None:
                keys.append((op.response, "serialization"))
        refs, top = models_json_schema(list(dict.fromkeys(keys)),
                                       ref_template="#/components/schemas/{model}")
        schemas: dict[str, Any] = top.get("$defs", {})
        paths: dict[str, dict[str, Any]] = {}
        for op in self.operations:
            path = RULE_PARAM.sub(r"{\2}", op.rule)
            paths.setdefault(path, {})[op.method.lower()] = self._operation(op, refs, schemas)
        problem_ref = refs[(Problem, "serialization")]
        responses = {
            str(code): self._problem_response(code, problem_ref)
            for code in sorted({c for op in self.operations for c in op.errors})
        }
        return {
            "openapi": "3.1.0",
            "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
            "info": {"title": self.title, "version": self.version,
                     "description": self.description},
            "servers": [{"url": server_url}],
            "tags": [{"name": t} for t in dict.fromkeys(op.tag for op in self.operations)],
            "paths": paths,
            "components": {
                "schemas": schemas,
                "responses": responses,
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "http", "scheme": "bearer", "bearerFormat": "mbr_…",
                        "description": "A personal API token from the account page. Read "
                                       "tokens may only call operations of scope 'read'. "
                                       "A token expires after the 30, 90, 180 or 365 days "
                                       "chosen at its creation (90 unless chosen); an "
                                       "expired token answers 401 with a problem whose "
                                       "`expired` is true and `expired_at` says when.",
                    }
                },
            },
            "security": [{"bearerAuth": []}],
        }

    @staticmethod
    def _problem_response(code: int, problem_ref: dict[str, str]) -> dict[str, Any]:
        response: dict[str, Any] = {
            "description": EXTRA_TITLES.get(code) or TITLES.get(code, "Error"),
            "content": {"application/problem+json": {"schema": problem_ref}},
        }
        if code == 401:
            response["headers"] = {"WWW-Authenticate": {
                "description": "Bearer challenge (RFC 6750).", "schema": {"type": "string"}}}
        return response

    def _operation(self, op: Operation, refs: dict[Any, Any],
                   schemas: dict[str, Any]) -> dict[str, Any]:
        parameters: list[dict[str, Any]] = []
        for converter, name in RULE_PARAM.findall(op.rule):
            schema: dict[str, Any] = {"type": "string"}
            if converter == "int":
                schema = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
            parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
        if op.query is not None:
            query_schema = op.query.model_json_schema(ref_template="#/components/schemas/{model}")
            required = set(query_schema.get("required", []))
            for name, prop in query_schema.get("properties", {}).items():
                prop = dict(prop)
                description = prop.pop("description", None)
                prop.pop("title", None)
                param = {"name": name, "in": "query", "required": name in required,
                         "schema": prop}
                if description:
                    param["description"] = description
                parameters.append(param)
        roles = f" Roles: {', '.join(op.roles)}." if op.roles else ""
        scope = f" Token scope: {op.scope}." if op.scope else ""
        spec: dict[str, Any] = {
            "operationId": op.endpoint,
            "summary": op.summary,
            "description": (op.description + roles + scope).strip(),
            "tags": [op.tag],
            "parameters": parameters,
            "responses": {},
        }
        if op.scope is None:
            spec["security"] = []
        else:
            spec["x-token-scope"] = op.scope
        if op.body is not None:
            media = "application/json" if op.body_kind == "json" else "multipart/form-data"
            spec["requestBody"] = {"required": True,
                                   "content": {media: {"schema": refs[(op.body, "validation")]}}}
        success: dict[str, Any] = {"description": op.summary}
        if op.response is not None:
            success["content"] = {"application/json": {
                "schema": refs[(op.response, "serialization")]}}
        elif op.media is not None:
            success["content"] = {op.media[0]: {"schema": op.media[1]}}
        headers: dict[str, Any] = {}
        if op.conditional:
            headers["ETag"] = {"description": "Entity tag; send it back in If-None-Match.",
                               "schema": {"type": "string"}}
        if op.links:
            headers["Link"] = {"description": "RFC 8288 links: first, prev, next, last pages.",
                               "schema": {"type": "string"}}
        if headers:
            success["headers"] = headers
        spec["responses"][str(op.status)] = success
        if op.conditional:
            spec["responses"]["304"] = {"description": "Not modified (If-None-Match matched)."}
        for code in op.errors:
            spec["responses"][str(code)] = {"$ref": f"#/components/responses/{code}"}
        return spec
