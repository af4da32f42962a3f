"""The JSON API: every endpoint, every error, the limits, and that no request runs code."""

from __future__ import annotations

import json
import os
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from netarith import analyze, parse
from netarith.graph import Graph

from .conftest import EXAMPLES

if not os.environ.get("CI"):
    pytest.importorskip("starlette")

from starlette.testclient import TestClient

from netarith.web import api
from netarith.web.app import create_app

ALEXNET = (EXAMPLES / "alexnet-paper.net").read_text()
SMALL = "input 3x32x32\nc1: conv 8 k3\nrelu\npool: maxpool 2\nfc: linear 10"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), base_url="http://127.0.0.1") as c:
        yield c


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["message"]
    return error


@pytest.fixture
def zoo_model(monkeypatch: pytest.MonkeyPatch) -> str:
    """A model registered in the zoo for the test only."""
    from netarith import zoo
    from netarith.zoo import registry

    zoo.names()  # load the real families first
    name = "web-test-net"

    def build() -> Graph:
        return parse(SMALL).replace(name=name)

    monkeypatch.setitem(registry._REGISTRY, name,
                        registry.ZooEntry(name, "test", "3x32x32", "the web tests", build, "a small net"))
    registry.build.cache_clear()
    return name


# ---------------------------------------------------------------- analyze


def test_analyze_is_the_library_report(client: TestClient) -> None:
    r = client.post("/api/analyze", json={"source": ALEXNET})
    assert r.status_code == 200
    data = r.json()
    expected = analyze(EXAMPLES / "alexnet-paper.net").to_dict()
    expected["model"] = data["model"]
    assert {k: data[k] for k in expected} == expected
    # the paper's conv1 maps (Figure 2): 55x55, 96 kernels, from 224 under cuda-convnet's rounding
    assert data["layers"][1]["output_shape"] == [96, 55, 55]
    assert data["rows"][1][:3] == ["conv1", "conv", "96x55x55"]
    assert any("params" in line for line in data["summary"])


def test_analyze_options(client: TestClient) -> None:
    body = {"source": "3x224x224 | conv1: conv 96 k11 s4", "convention": "pytorch", "input": "3x227x227"}
    assert client.post("/api/analyze", json=body).json()["layers"][1]["output_shape"] == [96, 55, 55]
    body["input"] = "3x224x224"
    assert client.post("/api/analyze", json=body).json()["layers"][1]["output_shape"] == [96, 54, 54]
    body["convention"] = "cuda-convnet"
    assert client.post("/api/analyze", json=body).json()["layers"][1]["output_shape"] == [96, 55, 55]
    error = error_of(client.post("/api/analyze", json={**body, "convention": "torch"}), 400)
    assert "pytorch" in error["message"]
    error_of(client.post("/api/analyze", json={**body, "mode": "test"}), 422)


def test_notation_error_is_located(client: TestClient) -> None:
    error = error_of(client.post("/api/analyze", json={"source": "input 3x32x32\nconv 8 k3\n  maxpol 2"}), 422)
    assert (error["type"], error["line"], error["column"]) == ("NotationError", 3, 3)
    assert "did you mean 'maxpool'" in error["message"]


def test_shape_error_names_its_line(client: TestClient) -> None:
    error = error_of(client.post("/api/analyze", json={"source": "input 3x4x4\nconv 8 k3\nbig: conv 8 k3"}), 422)
    assert (error["type"], error["line"]) == ("ShapeError", 3)
    assert "big" in error["message"] and "larger than the padded input 2x2" in error["message"]


def test_markup_in_messages_comes_back_as_json_data(client: TestClient) -> None:
    source = "input 3x8x8\n<img src=x onerror=alert(1)>"
    error = error_of(client.post("/api/analyze", json={"source": source}), 422)
    assert error["line"] == 2 and "<img" in error["message"]  # data, shown by the page as text


@pytest.mark.parametrize("body, status", [
    ({}, 400),
    ({"source": SMALL, "model": "alexnet"}, 400),
    ({"source": 42}, 400),
    ({"source": ""}, 422),
    ({"source": "   \n  "}, 422),
    ({"model": "no-such-model"}, 404),
])
def test_bad_requests(client: TestClient, body: dict[str, Any], status: int) -> None:
    error_of(client.post("/api/analyze", json=body), status)


@pytest.mark.parametrize("source", [
    "os:system", "torchvision.models:alexnet", "/etc/passwd", "../secrets.net", "model.onnx",
    "deploy.prototxt", str(EXAMPLES / "alexnet-paper.net"),
])
def test_no_file_or_import_through_the_api(client: TestClient, source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    imported: list[str] = []
    real = importlib.import_module

    def watch(name: str, package: str | None = None) -> types.ModuleType:
        imported.append(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", watch)
    error = error_of(client.post("/api/analyze", json={"source": source}), 400)
    assert "file path or a Python factory" in error["message"]
    assert not [m for m in imported if not m.startswith("netarith")]


def test_not_json(client: TestClient) -> None:
    headers = {"content-type": "application/json"}
    assert "not JSON" in error_of(client.post("/api/analyze", content=b"{source:", headers=headers), 400)["message"]
    error_of(client.post("/api/analyze", content=b"\xff\xfe", headers=headers), 400)
    error_of(client.post("/api/analyze", content=b'{"source": NaN}', headers=headers), 400)
    assert "JSON object" in error_of(client.post("/api/analyze", content=b'["x"]', headers=headers), 400)["message"]
    error_of(client.post("/api/analyze", content=json.dumps({"source": SMALL}).encode(),
                         headers={"content-type": "text/plain"}), 415)


def test_body_over_one_megabyte(client: TestClient) -> None:
    big = json.dumps({"source": "input 3x8x8\n" + "# padding\n" * 110_000}).encode()
    assert len(big) > api.MAX_BODY
    error_of(client.post("/api/analyze", content=big, headers={"content-type": "application/json"}), 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the stream is counted as it arrives
        for _ in range(20):
            yield b" " * 60_000

    error_of(client.post("/api/analyze", content=chunks(), headers={"content-type": "application/json"}), 413)


def test_layer_limit(client: TestClient) -> None:
    source = "input 3x8x8\n" + "relu\n" * (api.MAX_LAYERS + 1)
    assert "at most 10,000" in error_of(client.post("/api/analyze", json={"source": source}), 413)["message"]
    source = "input 3x8x8\n" + "relu\n" * (api.MAX_LAYERS - 1)
    assert client.post("/api/analyze", json={"source": source}).status_code == 200


def test_time_bound() -> None:
    with TestClient(create_app(time_limit=0.01), base_url="http://127.0.0.1") as slow:
        source = "input 8x32x32\n" + "conv 8 k3 p1\n" * 5000
        error = error_of(slow.post("/api/draw", json={"source": source, "collapse": False}), 503)
        assert "longer than 0.01 s" in error["message"]


def test_host_must_be_this_machine() -> None:
    with TestClient(create_app(), base_url="http://attacker.example") as other:
        assert other.get("/api/zoo").status_code == 400
    with TestClient(create_app(), base_url="http://localhost:8000") as local:
        assert local.get("/api/zoo").status_code == 200


# ---------------------------------------------------------------- pictures and files


def test_draw_and_chart(client: TestClient) -> None:
    for style in ("volumes", "graph"):
        svg = client.post("/api/draw", json={"source": SMALL, "style": style}).json()["svg"]
        assert svg.startswith("<svg") and 'data-layer="c1"' in svg
    error_of(client.post("/api/draw", json={"source": SMALL, "style": "3d"}), 400)
    svg = client.post("/api/chart", json={"source": SMALL, "log": True}).json()["svg"]
    assert "log10(1 + value)" in svg


@pytest.mark.parametrize("fmt, media, suffix, needle", [
    ("json", "application/json", "json", '"output_shape"'),
    ("csv", "text/csv", "csv", "name,kind,inputs"),
    ("markdown", "text/markdown", "md", "| layer |"),
    ("table", "text/plain", "txt", "params"),
    ("svg", "image/svg+xml", "svg", "<svg"),
    ("graph-svg", "image/svg+xml", "svg", "<svg"),
    ("chart-svg", "image/svg+xml", "svg", "<svg"),
])
def test_export(client: TestClient, fmt: str, media: str, suffix: str, needle: str) -> None:
    r = client.post("/api/export", json={"source": "model tiny\n" + SMALL, "format": fmt})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media)
    assert r.headers["content-disposition"] == f'attachment; filename="tiny.{suffix}"'
    assert needle in r.text


def test_export_unknown_format(client: TestClient) -> None:
    error_of(client.post("/api/export", json={"source": SMALL, "format": "pdf"}), 400)


# ---------------------------------------------------------------- zoo


def test_zoo(client: TestClient, zoo_model: str) -> None:
    models = client.get("/api/zoo").json()["models"]
    assert {"name": zoo_model, "family": "test", "input": "3x32x32", "source": "the web tests",
            "description": "a small net"} in models
    data = client.get(f"/api/zoo/{zoo_model}").json()
    assert parse(data["notation"]) == parse(SMALL).replace(name=zoo_model)
    report = client.post("/api/analyze", json={"model": zoo_model}).json()
    assert report["model"] == zoo_model and report["layers"][1]["output_shape"] == [8, 30, 30]
    error_of(client.get("/api/zoo/nope"), 404)


# ---------------------------------------------------------------- features built elsewhere


@pytest.mark.parametrize("path, body", [
    ("/api/explain", {"source": SMALL, "layer": "c1"}),
    ("/api/sizes", {"source": SMALL}),
    ("/api/audit", {"model": "web-test-net"}),
])
def test_missing_features_answer_501(client: TestClient, zoo_model: str, path: str, body: dict[str, Any],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("explain", "solve", "sizes", "audit"):
        monkeypatch.setitem(sys.modules, f"netarith.{name}", None)  # as if not built
    error = error_of(client.post(path, json=body), 501)
    assert error["type"] == "NotImplemented" and "not available in this build" in error["message"]


def test_features_are_called_when_present(client: TestClient, zoo_model: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, Any]] = []

    def explain(source: Graph, layer: str | None = None) -> list[dict[str, str]]:
        calls.append(("explain", layer))
        return [{"quantity": "H", "formula": "f", "numbers": "n", "result": str(analyze(source)[layer].shape.dims[1])}]

    def sizes(graph: Graph, range: tuple[int, int] | None = None) -> dict[str, Any]:
        calls.append(("sizes", range))
        return {"min_input": [3, 3]}

    def audit(report: Any, model: str) -> dict[str, Any]:
        calls.append(("audit", model))
        return {"verdicts": []}

    monkeypatch.setitem(sys.modules, "netarith.explain", types.SimpleNamespace(explain=explain))
    monkeypatch.setitem(sys.modules, "netarith.sizes", types.SimpleNamespace(sizes=sizes))
    monkeypatch.setitem(sys.modules, "netarith.audit", types.SimpleNamespace(audit=audit))
    r = client.post("/api/explain", json={"source": SMALL, "layer": "c1"})
    assert r.json() == {"layer": "c1", "explanation": [
        {"quantity": "H", "formula": "f", "numbers": "n", "result": "30"}]}
    assert client.post("/api/sizes", json={"source": SMALL, "lo": 1, "hi": 64}).json() == {
        "sizes": {"min_input": [3, 3]}}
    assert client.post("/api/audit", json={"model": zoo_model}).json() == {"model": zoo_model,
                                                                          "audit": {"verdicts": []}}
    assert calls == [("explain", "c1"), ("sizes", (1, 64)), ("audit", zoo_model)]
    assert "c9" in error_of(client.post("/api/explain", json={"source": SMALL, "layer": "c9"}), 404)["message"]
    error_of(client.post("/api/audit", json={"source": SMALL}), 400)  # audit needs a zoo model


# ---------------------------------------------------------------- page, OpenAPI, methods


def test_page_and_assets_are_local(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    assert "http://" not in page.text.replace("http://127.0.0.1", "") and "https://" not in page.text
    for asset, media in (("app.js", "javascript"), ("style.css", "text/css")):
        r = client.get(f"/static/{asset}")
        assert r.status_code == 200 and media in r.headers["content-type"]
        assert "https://" not in r.text and "http://" not in r.text  # no CDN: works offline
    assert client.get("/static/../app.py").status_code == 404


def test_openapi(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in api.HANDLERS:
        assert "post" in spec["paths"][f"/api/{path}"]
    assert "get" in spec["paths"]["/api/zoo"]


def test_wrong_method_and_unknown_path(client: TestClient) -> None:
    error_of(client.get("/api/analyze"), 405)
    error_of(client.get("/api/nothing"), 404)


def test_serve_names_the_extra_when_missing(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    from netarith.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    assert main(["serve"]) == 2
    assert "pip install 'netarith[web]'" in capsys.readouterr().err


def test_serve_binds_this_machine_by_default(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    import uvicorn

    from netarith.cli import main

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw))
    assert main(["serve"]) == 0
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8000)
    assert "http://127.0.0.1:8000/" in capsys.readouterr().err
    assert main(["serve", "--host", "0.0.0.0", "--port", "9000"]) == 0
    assert (seen["host"], seen["port"]) == ("0.0.0.0", 9000)
    assert "other machines can reach this server" in capsys.readouterr().err
