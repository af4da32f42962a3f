"""The page in real headless Chromium (Debian's package), driven by Playwright.

Run only these with ``pytest -m browser``. Playwright never downloads a browser
here: it launches /usr/bin/chromium. Screenshots go to tests/artifacts/ (not
committed) so a person can look at them.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import EXAMPLES

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).parent / "artifacts"


def _need(module: str) -> None:
    if os.environ.get("CI"):
        __import__(module)  # in CI a missing piece fails the run instead of skipping it
    else:
        pytest.importorskip(module)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    _need("uvicorn")
    import uvicorn

    from netarith.web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need("playwright")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (make test does)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error"
          and "status of 4" not in m.text and "status of 5" not in m.text else None)
    pg.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    pg.problems = problems
    yield pg
    context.close()
    assert not problems, problems  # no script error, no alert() from injected markup


def expect(target: Any) -> Any:
    """Playwright's retrying assertions (they poll without eval, which the page's CSP forbids)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def type_network(page: Any, text: str) -> None:
    page.fill("#source", "")
    page.type("#source", text, delay=2)


def rows(page: Any) -> list[list[str]]:
    return [[c.strip() for c in r.split("\t")] for r in page.locator("#table tbody tr").all_inner_texts()]


def test_type_a_network_and_see_the_table(page: Any, server: str) -> None:
    page.goto(server + "/")
    page.wait_for_selector("#table tbody tr")
    type_network(page, "input 3x227x227\nconv1: conv 96 k11 s4\nrelu\npool1: maxpool k3 s2")
    expect(page.locator("#table tbody tr")).to_have_count(4)
    table = rows(page)
    # cs231n's worked example: (227 - 11)/4 + 1 = 55, 55*55*96 = 290,400; 96*11*11*3 + 96 = 34,944
    assert table[1][:6] == ["conv1", "conv", "96x55x55", "290,400", "34,944", "105,415,200"]
    assert table[3][2] == "96x27x27"
    page.wait_for_selector("#diagram svg [data-layer='conv1']")
    # the user goes on typing: the table follows
    page.type("#source", "\nconv2: conv 256 k5 p2", delay=2)
    expect(page.locator("#table tbody tr")).to_have_count(5)
    assert rows(page)[4][:3] == ["conv2", "conv", "256x27x27"]


def test_click_a_layer_and_see_its_numbers(page: Any, server: str) -> None:
    page.goto(server + "/")
    page.wait_for_selector("#diagram svg [data-layer='conv1']")
    page.click("#diagram svg [data-layer='conv2'] rect >> nth=0")
    page.wait_for_selector("#detail:not([hidden])")
    assert page.inner_text("#detail-title") == "conv2 (conv)"
    numbers = page.inner_text("#detail-numbers")
    assert "256x27x27" in numbers and "307,456" in numbers  # 256*(96/2)*5*5 + 256 (Krizhevsky et al. 3.5)
    expect(page.locator("#derivation")).not_to_contain_text("deriving")
    derivation = page.inner_text("#derivation")
    try:
        import netarith.explain  # noqa: F401
    except ModuleNotFoundError:
        assert "not available in this build" in derivation
    else:  # explain exists: the derivation of conv2's size is shown
        assert "27" in derivation
    assert page.locator("#table tbody tr.selected").inner_text().startswith("conv2")
    page.click("#table tbody tr:has-text('conv3')")
    expect(page.locator("#detail-title")).to_have_text("conv3 (conv)")


def test_an_error_is_marked_at_its_line(page: Any, server: str) -> None:
    page.goto(server + "/")
    page.wait_for_selector("#table tbody tr")
    type_network(page, "input 3x32x32\nconv 8 k3\n  maxpol 2")
    page.wait_for_selector("#error:not([hidden])")
    assert "did you mean 'maxpool'" in page.inner_text("#error")
    assert page.inner_text(".gutter .bad") == "3"
    assert page.inner_text(".backdrop .bad-col") == "m"  # column 3, the start of the bad word
    assert "stale" in (page.get_attribute("#table", "class") or "")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "error.png"))
    type_network(page, "input 3x32x32\nconv 8 k3\n  maxpool 2")
    page.wait_for_selector("#error", state="hidden")
    assert page.locator(".gutter .bad").count() == 0


def test_a_share_link_opens_and_computes(page: Any, server: str) -> None:
    source = "input 3x224x224\nconvention cuda-convnet\nconv1: conv 96 k11 s4"
    page.goto(server + "/#src=" + urllib.parse.quote(source))
    expect(page.locator("#table tbody tr")).to_have_count(2)
    assert page.input_value("#source") == source
    assert rows(page)[1][2] == "96x55x55"  # the paper's 55 from 224, under cuda-convnet's rounding
    type_network(page, "3x8x8 | c: conv 2 k3")
    expect(page.locator("#table tbody tr").nth(1)).to_contain_text("2x6x6")
    page.click("#share")
    link = page.input_value("#share-url")
    assert link.startswith(server + "/#src=") and urllib.parse.unquote(link.split("#src=")[1]) == "3x8x8 | c: conv 2 k3"
    other = page.context.new_page()
    other.goto(link)
    expect(other.locator("#table tbody tr").nth(1)).to_contain_text("2x6x6")
    other.close()


def test_markup_in_names_and_messages_is_text(page: Any, server: str) -> None:
    page.goto(server + "/")
    page.wait_for_selector("#table tbody tr")
    evil_model = "<script>alert(1)</script><img/src=x/onerror=alert(2)>"
    type_network(page, f"model {evil_model}\ninput 3x8x8\nc1: conv 2 k3")
    expect(page.locator("#summary")).to_contain_text("<script>")
    page.wait_for_selector("#diagram svg [data-layer='c1']")
    assert page.locator("#diagram script, #diagram img, #summary img, #summary script").count() == 0
    assert evil_model in page.inner_text("#summary")  # shown as the text it is
    assert evil_model in page.text_content("#diagram svg")
    type_network(page, "input 3x8x8\n<img src=x onerror=alert(3)>")
    page.wait_for_selector("#error:not([hidden])")
    assert "<img src=x onerror=alert(3)>" in page.inner_text("#error")
    assert page.locator("#error img, .backdrop img").count() == 0
    page.wait_for_timeout(300)  # an onerror handler would have fired by now (the page fixture checks dialogs)


def test_downloads(page: Any, server: str) -> None:
    page.goto(server + "/")
    page.wait_for_selector("#table tbody tr")
    for fmt, suffix, needle in (("json", "json", '"output_shape"'), ("csv", "csv", "name,kind"),
                                ("markdown", "md", "| layer |"), ("svg", "svg", "<svg")):
        with page.expect_download() as info:
            page.click(f".downloads button[data-format='{fmt}']")
        download = info.value
        assert download.suggested_filename == f"alexnet-paper.{suffix}"
        assert needle in Path(download.path()).read_text()


def test_screenshot_of_alexnet(page: Any, server: str) -> None:
    """The page a newcomer sees, with AlexNet pasted in: kept for a person to look at."""
    page.goto(server + "/")
    page.fill("#source", (EXAMPLES / "alexnet-paper.net").read_text())
    expect(page.locator("#summary")).to_contain_text("60,965,224")
    page.wait_for_selector("#diagram svg [data-layer='fc8']")
    page.click("#diagram svg [data-layer='conv1'] rect >> nth=0")
    page.wait_for_selector("#detail:not([hidden])")
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "alexnet.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 20_000
    page.click(".tabs button[data-view='graph']")
    page.wait_for_selector("#diagram svg .node")
    page.click(".tabs button[data-view='chart']")
    expect(page.locator("#diagram svg > title")).to_contain_text("chart")
    page.screenshot(path=str(ARTIFACTS / "chart.png"))


def test_pick_a_zoo_model_and_audit_it(page: Any, server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from netarith import parse, zoo
    from netarith.zoo import registry

    zoo.names()
    source = "input 3x32x32\nc1: conv 8 k3\nrelu\nfc: linear 10"
    entry = registry.ZooEntry("browser-test-net", "test", "3x32x32", "the browser tests",
                              lambda: parse(source), "a small net")
    monkeypatch.setitem(registry._REGISTRY, entry.name, entry)  # the server runs in this process
    registry.build.cache_clear()
    page.goto(server + "/")
    page.wait_for_selector("#zoo option[value='browser-test-net']", state="attached")
    page.select_option("#zoo", "browser-test-net")
    expect(page.locator("#table tbody tr")).to_have_count(4)
    assert "model browser-test-net" in page.input_value("#source")
    assert rows(page)[1][2] == "8x30x30"
    expect(page.locator("#audit-panel")).to_be_visible()
    page.click("#audit")
    expect(page.locator("#audit-result")).not_to_contain_text("auditing")
    try:
        import netarith.audit  # noqa: F401
    except ModuleNotFoundError:
        expect(page.locator("#audit-result")).to_contain_text("not available in this build")
    page.type("#source", "\nrelu", delay=2)  # edited: no longer the zoo model, no audit
    expect(page.locator("#audit-panel")).to_be_hidden()
