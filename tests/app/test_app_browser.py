"""The app in a real browser: `dlcc app` started as users start it (a Streamlit server on
127.0.0.1), Playwright driving Debian's Chromium uploads files through the page's file
uploaders, waits for the results and reads what is rendered. Screenshots are kept in
$DLCC_TEST_ARTIFACTS/app (or pytest's temporary folder) as test artefacts."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from app_fixtures import ecg_csv, png

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and os.path.exists(p)), None)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
        "--disable-background-networking", "--disable-component-update"]
TIMEOUT_MS = 90_000                      # a busy 2-core machine: model loading and prediction take seconds

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(runs: Path, port: int, *extra: str) -> subprocess.Popen:
    """`dlcc app --runs RUNS --port PORT`, waited for until Streamlit's health check answers."""
    proc = subprocess.Popen([sys.executable, "-m", "dlcc", "app", "--runs", str(runs), "--port", str(port), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"dlcc app exited {proc.returncode}: {proc.stdout.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("dlcc app did not answer within 90 s")


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


@pytest.fixture(scope="module")
def served(runs, tmp_path_factory):
    """The app on a free port, serving a copy of the tiny runs (live training writes there)."""
    folder = tmp_path_factory.mktemp("served") / "runs"
    shutil.copytree(runs, folder, ignore=shutil.ignore_patterns("checkpoints"))
    port = free_port()
    proc = start_app(folder, port, "--max-upload-mb", "2")
    yield f"http://127.0.0.1:{port}"
    stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM (`dlcc app` is the Streamlit process itself), then SIGKILL if it lingers."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    root = os.environ.get("DLCC_TEST_ARTIFACTS")
    folder = Path(root) / "app" if root else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser, served):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(
        ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else None)
    page.goto(served, wait_until="domcontentloaded")
    page.get_by_role("heading", name="dlcc model app").wait_for(timeout=TIMEOUT_MS)
    yield page
    assert not outside, outside                        # nothing leaves 127.0.0.1 (no fonts, no telemetry)
    page.close()


def settle(page) -> None:
    """Wait until the script run finished: Streamlit marks elements of the previous run stale."""
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=TIMEOUT_MS)


def go(page, name: str) -> None:
    page.get_by_test_id("stSidebar").get_by_text(name, exact=True).click()
    page.get_by_role("heading", name=name).wait_for(timeout=TIMEOUT_MS)
    settle(page)


def upload(page, label: str, files: list[Path]) -> None:
    """Choose `files` in the file uploader whose label starts with `label`."""
    box = page.get_by_test_id("stFileUploader").filter(has_text=label)
    box.locator("input[type='file']").set_input_files([str(f) for f in files])


def test_classify_upload_shows_probabilities_and_saliency(page, tmp_path, shots):
    (tmp_path / "cat.png").write_bytes(png((32, 32, 3), seed=5))
    (tmp_path / "notes.txt").write_text("not an image")
    go(page, "Classify images")
    upload(page, "upload images", [tmp_path / "cat.png", tmp_path / "notes.txt"])
    page.get_by_text("prediction: ").first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("notes.txt: not a file this page takes").wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("smoothgrad map for class").wait_for(timeout=TIMEOUT_MS)
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=TIMEOUT_MS)   # the probabilities
    page.screenshot(path=str(shots / "classify.png"), full_page=True)


def test_segment_upload_shows_the_mask(page, tmp_path, shots):
    (tmp_path / "cells.png").write_bytes(png((96, 128), seed=6))
    go(page, "Segment microscopy")
    upload(page, "upload microscopy images", [tmp_path / "cells.png"])
    page.get_by_text("of the pixels are foreground").wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("mask in red, its outline in yellow").wait_for(timeout=TIMEOUT_MS)
    page.screenshot(path=str(shots / "segment.png"), full_page=True)


def test_ecg_upload_shows_peaks_and_heart_rate_then_a_bad_file(page, tmp_path, shots):
    data, n_peaks = ecg_csv(20)
    (tmp_path / "rec.csv").write_bytes(data)
    (tmp_path / "big.csv").write_bytes(b"0," * 1_100_000)              # over the 2 MB limit
    go(page, "ECG R peaks")
    upload(page, "upload one recording", [tmp_path / "rec.csv"])
    ok = page.get_by_text(re.compile(r"^\d+ R peaks in [\d.]+ s, mean heart rate \d+ bpm$"))
    ok.wait_for(timeout=TIMEOUT_MS)
    found = int(ok.inner_text().split()[0])
    assert abs(found - n_peaks) <= 1
    page.locator("[data-testid='stImage'] img").first.wait_for(timeout=TIMEOUT_MS)   # the trace with its peaks
    settle(page)
    page.screenshot(path=str(shots / "ecg.png"), full_page=True)
    page.get_by_role("button", name="Remove rec.csv").click()       # the uploader's own remove button
    upload(page, "upload one recording", [tmp_path / "big.csv"])
    page.get_by_text(re.compile("File must be .* or smaller")).wait_for(timeout=TIMEOUT_MS)   # the browser refuses it
    page.screenshot(path=str(shots / "ecg-too-large.png"), full_page=True)


def test_train_live_shows_progress_and_curves(page, shots):
    go(page, "Train live")
    page.get_by_role("button", name="Train").click()
    page.get_by_text("trained mnist1d-mlp-live-").wait_for(timeout=TIMEOUT_MS)
    page.locator("[data-testid='stVegaLiteChart']").nth(1).wait_for(timeout=TIMEOUT_MS)   # loss and accuracy
    page.screenshot(path=str(shots / "train.png"), full_page=True)
