"""A real browser (Playwright driving Debian's Chromium) opens the built site: math is typeset,
figures load, search finds "backpropagation", and no request leaves 127.0.0.1."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading

import pytest

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and os.path.exists(p)), None)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
        "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install -e '.[docs]'")
    if CHROMIUM is None:
        if os.environ.get("DLCC_REQUIRE_DATA") == "1":
            pytest.fail("Chromium is missing (DLCC_REQUIRE_DATA=1): apt-get install -y chromium")
        pytest.skip("Chromium is not installed: apt-get install -y chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(built_site):
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _open(browser, url):
    page = browser.new_page()
    outside, failed = [], []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(url, wait_until="networkidle")
    return page, outside, failed


@pytest.mark.slow
@pytest.mark.parametrize("path", ["lectures/l03-backprop/", "lectures/math-session/", "lectures/l09-attention/"])
def test_math_renders_and_figures_load(browser, served, path):
    page, outside, failed = _open(browser, f"{served}/{path}")
    page.wait_for_selector("mjx-container svg", timeout=30000)
    assert page.locator("mjx-container").count() > 5
    assert page.locator(".arithmatex mjx-merror").count() == 0   # no TeX the renderer rejected
    # figures are lazy-loaded below the fold: scroll each into view, then wait for all of them
    for img in page.locator("img[src*='figures/']").all():
        img.scroll_into_view_if_needed()
    page.wait_for_function("[...document.querySelectorAll(\"img[src*='figures/']\")].every(i => i.complete)",
                           timeout=30000)
    sizes = page.eval_on_selector_all("img[src*='figures/']", "imgs => imgs.map(i => [i.complete, i.naturalWidth])")
    assert len(sizes) >= 2 and all(done and width > 100 for done, width in sizes), sizes
    assert not outside and not failed, (outside, failed)
    page.close()


@pytest.mark.slow
def test_search_finds_backpropagation(browser, served):
    page, outside, failed = _open(browser, f"{served}/")
    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially("backpropagation", delay=20)   # the theme searches on key events
    page.wait_for_selector(".md-search-result__item", timeout=30000)
    hrefs = page.eval_on_selector_all(".md-search-result__item a", "as => as.map(a => a.href)")
    assert any("l03-backprop" in h for h in hrefs), hrefs
    assert not outside and not failed, (outside, failed)
    page.close()
