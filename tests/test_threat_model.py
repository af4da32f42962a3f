"""The lines of docs/threat-model.md that no other test file already backs.

Each test names, in its docstring, the line of the threat model it checks.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

if not os.environ.get("CI"):
    pytest.importorskip("starlette")

from starlette.testclient import TestClient

from netarith import analyze
from netarith.web import api
from netarith.web.app import create_app

from . import fuzzkit

SMALL = "input 3x32x32\nc1: conv 8 k3\nrelu\npool: maxpool 2\nfc: linear 10"


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(create_app(), base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        yield c


# -- a page visitor -------------------------------------------------------------------------------------

FIELDS = ["source", "model", "convention", "input", "mode", "style", "collapse", "log", "format", "layer", "lo", "hi"]
JSON = st.recursive(st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=False)
                    | st.text(max_size=30) | st.sampled_from([SMALL, "alexnet", "3x8x8", "pytorch", "train", "graph"]),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=6)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(api.HANDLERS)), st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=6))
def test_any_json_body_gets_an_answer_not_a_server_error(client: Any, path: str, body: dict[str, Any]) -> None:
    """Visitor: 'can send any JSON body to any endpoint; gets a 2xx or a 4xx with a message,
    never a 500 or a traceback'."""
    r = client.post(f"/api/{path}", content=json.dumps(body).encode(), headers={"content-type": "application/json"})
    assert r.status_code < 500 or r.status_code == 501, (r.status_code, body, r.text[:500])
    if r.status_code >= 400:
        assert r.json()["error"]["message"] and "Traceback" not in r.text


def test_cross_site_pages_get_no_cors(client: Any) -> None:
    """Visitor (another site open in the same browser): 'cannot read answers or send JSON to the
    API': no CORS header is ever granted, a preflight is refused, a form post is 415."""
    evil = {"origin": "http://evil.example"}
    r = client.post("/api/analyze", json={"source": SMALL}, headers=evil)
    assert "access-control-allow-origin" not in r.headers
    pre = client.options("/api/analyze", headers={**evil, "access-control-request-method": "POST",
                                                  "access-control-request-headers": "content-type"})
    assert pre.status_code == 405 and "access-control-allow-origin" not in pre.headers
    form_type = {"content-type": "application/x-www-form-urlencoded"}
    form = client.post("/api/analyze", content=b"source=3x8x8", headers={**evil, **form_type})
    assert form.status_code == 415


def test_the_page_cannot_be_framed_or_load_outside_code(client: Any) -> None:
    """Visitor: 'cannot frame the page or make it load scripts from elsewhere' (CSP)."""
    csp = client.get("/").headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "object-src 'none'" in csp
    for path in ("/api/zoo", "/static/app.js", "/nothing"):
        assert client.get(path).headers["x-content-type-options"] == "nosniff"


# -- a shared link ---------------------------------------------------------------------------------------


def test_a_shared_link_is_only_notation(client: Any) -> None:
    """Link: 'is notation text, sent to /api/analyze like typed text: it cannot name a file or
    a module, and a huge one is refused by the same limits'."""
    for source in ("/etc/passwd", "os:system", "../../secret.onnx"):
        assert client.post("/api/analyze", json={"source": source}).status_code == 400
    deep = "input 3x8x8\n" + "relu\n" * (api.MAX_LAYERS + 1)
    assert client.post("/api/analyze", json={"source": deep}).status_code == 413
    wide = "input 3x8x8 | " + " | ".join(["relu"] * (api.MAX_LAYERS + 1))
    assert client.post("/api/analyze", json={"source": wide}).status_code == 413


# -- a model file ------------------------------------------------------------------------------------------


def test_a_model_file_runs_no_code_and_opens_no_other_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Model file: 'cannot make netarith import a module or open a file other than itself (an ONNX
    file's external data is never opened; a .prototxt or .cfg is text read by netarith's own
    parsers)'. Every file opened while reading is recorded."""
    import builtins
    import importlib

    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto as T
    from onnx import helper as h

    w = T(name="W", data_type=T.FLOAT, dims=[4, 3, 3, 3])
    w.data_location = T.EXTERNAL
    entry = w.external_data.add()
    entry.key, entry.value = "location", "../../../../etc/passwd"
    graph = h.make_graph([h.make_node("Conv", ["x", "W"], ["y"], name="y")], "g",
                         [h.make_tensor_value_info("x", T.FLOAT, [1, 3, 8, 8])],
                         [h.make_tensor_value_info("y", T.FLOAT, None)], [w])
    files = {"m.onnx": onnx.helper.make_model(graph).SerializeToString(),
             "m.prototxt": b'layer { name: "d" type: "Python" top: "d" python_param { module: "os" layer: "x" } }',
             "m.cfg": b"[data]\ntype=data\n[c]\ntype=conv\ninputs=data\nchannels=3\nfilters=4\nfilterSize=3\n"
                      b"initWFunc=os.system\n"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    opened: list[str] = []
    real_open = builtins.open
    real_import = importlib.import_module

    def watch_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    def watch_import(name: str, package: str | None = None) -> Any:
        assert name.startswith(("netarith", "onnx", "numpy")), name
        return real_import(name, package)

    monkeypatch.setattr(builtins, "open", watch_open)
    monkeypatch.setattr(importlib, "import_module", watch_import)
    assert analyze(tmp_path / "m.onnx").totals.params == 4 * 3 * 3 * 3
    for name in ("m.prototxt", "m.cfg"):
        try:
            analyze(tmp_path / name)
        except Exception as exc:  # a located NetarithError is fine; nothing else is
            from netarith import NetarithError

            assert isinstance(exc, NetarithError), exc
    assert not [f for f in opened if "passwd" in f or not f.startswith(str(tmp_path))], opened


def test_a_claims_file_has_no_yaml_tricks() -> None:
    """Model file (claims YAML): 'no tags, anchors or aliases: no object is built from the text
    and no expansion can blow up'."""
    from netarith import NetarithError
    from netarith.claims import load_claims

    for text in ("model: !!python/object/apply:os.system ['ls']\nclaims: []\n",
                 "a: &x [1, 2]\nb: *x\n", "model: x\nclaims: !!binary aGVsbG8=\n"):
        with pytest.raises(NetarithError, match="unsupported YAML feature"):
            load_claims(text, source="c.yaml")
    fuzzkit.check_claims("a: &a [1]\nb: [*a, *a, *a]\n")
