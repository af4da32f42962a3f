"""The OpenAPI 3.1 description of the JSON API (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any

__all__ = ["describe"]

_PROPERTIES: dict[str, Any] = {
    "source": {"type": "string", "description": "notation, e.g. '3x227x227 | conv 96 k11 s4'"},
    "model": {"type": "string", "description": "a name from GET /api/zoo"},
    "convention": {"type": "string", "enum": ["pytorch", "caffe", "tensorflow", "cuda-convnet"]},
    "input": {"type": "string", "description": "replace the input shape, e.g. '3x227x227'"},
    "mode": {"type": "string", "enum": ["eval", "train"]},
}
_SOURCE: dict[str, Any] = {
    "type": "object",
    "description": "Either 'source' (notation text) or 'model' (a zoo name). File paths and Python "
                   "factories are refused.",
    "properties": _PROPERTIES,
}
_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {
        "type": {"type": "string"}, "message": {"type": "string"},
        "line": {"type": "integer"}, "column": {"type": "integer"},
    }, "required": ["type", "message"]}},
}


def _with(**extra: Any) -> dict[str, Any]:
    return {**_SOURCE, "properties": {**_PROPERTIES, **extra}}


def _post(summary: str, body: dict[str, Any], answer: str, extra: tuple[int, ...] = ()) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {"description": answer, "content": {"application/json": {"schema": {"type": "object"}}}},
        "400": {"description": "not JSON, or a malformed request",
                "content": {"application/json": {"schema": _ERROR}}},
        "408": {"description": "the body did not arrive within the client timeout"},
        "413": {"description": "body over 1 MB, or more than 10,000 layers"},
        "415": {"description": "the body is not sent as application/json"},
        "422": {"description": "the network does not parse or compute; line and column when known",
                "content": {"application/json": {"schema": _ERROR}}},
        "429": {"description": "too many requests are waiting; try again in a moment"},
        "503": {"description": "the computation took longer than the time bound (and was stopped)"},
    }
    for code in extra:
        responses[str(code)] = {"description": {404: "no such zoo model or layer",
                                                501: "the feature is not part of this build"}[code]}
    return {"post": {"summary": summary, "requestBody": {"required": True, "content": {
        "application/json": {"schema": body}}}, "responses": responses}}


def describe(version: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "netarith", "version": version,
                 "description": "The exact arithmetic of convolutional networks, as a local JSON API."},
        "paths": {
            "/api/analyze": _post("every layer's shape, neurons, params, MACs, receptive field", _SOURCE,
                                  "the report (design.md's JSON contract) plus 'rows' and 'summary'", (404,)),
            "/api/draw": _post("the network as SVG", _with(style={"type": "string", "enum": ["volumes", "graph"]},
                                                           collapse={"type": "boolean"}), "{'svg': text}", (404,)),
            "/api/chart": _post("per-layer bars as SVG", _with(log={"type": "boolean"}), "{'svg': text}", (404,)),
            "/api/export": _post("the report as a file", _with(format={"type": "string", "enum": [
                "json", "csv", "markdown", "table", "svg", "graph-svg", "chart-svg"]}), "the file", (404,)),
            "/api/explain": _post("derivations of a layer's numbers", _with(layer={"type": "string"}),
                                  "{'layer', 'explanation'}", (404, 501)),
            "/api/sizes": _post("valid and exact input sizes", _with(lo={"type": "integer"}, hi={"type": "integer"}),
                                "{'sizes'}", (404, 501)),
            "/api/audit": _post("a zoo model's published claims checked", _SOURCE, "{'model', 'audit'}",
                                (404, 501)),
            "/api/zoo": {"get": {"summary": "the zoo's models", "responses": {"200": {"description": "models"}}}},
            "/api/zoo/{name}": {"get": {
                "summary": "a zoo model as notation",
                "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "{'name', 'notation', ...}"},
                              "404": {"description": "no such model"}}}},
        },
    }
