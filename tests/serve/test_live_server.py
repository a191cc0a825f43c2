"""`dlcc serve` as users run it: a live uvicorn on 127.0.0.1 answering real HTTP, `/health`
answering while predictions are in flight, and the command's bad inputs (exit 2, one line)."""

from __future__ import annotations

import concurrent.futures
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from serve_helpers import png_bytes

from dlcc.cli import main


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args: list[str], port: int) -> subprocess.Popen:
    """`dlcc serve ARGS --port PORT`, waited for until /health answers (or the process dies)."""
    import httpx

    proc = subprocess.Popen([sys.executable, "-m", "dlcc", "serve", *args, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"dlcc serve exited {proc.returncode}: {proc.stdout.read()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("dlcc serve did not answer /health within 60 s")


@pytest.fixture(scope="module")
def live(fast_run):
    port = free_port()
    proc = start_server([str(fast_run), "--max-mb", "1", "--threads", "1"], port)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.slow
def test_live_server_predicts_and_stays_healthy_under_load(live):
    import httpx

    rng = np.random.default_rng(1)
    images = [png_bytes(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)) for _ in range(8)]

    def one(i: int) -> int:
        r = httpx.post(f"{live}/predict", files={"file": (f"{i}.png", images[i % 8], "image/png")}, timeout=30)
        assert r.json()["predictions"][0]["file"] == f"{i}.png"
        return r.status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(one, i) for i in range(64)]
        health = [httpx.get(f"{live}/health", timeout=5).status_code for _ in range(5)]
        codes = [f.result() for f in futures]
    assert codes == [200] * 64 and health == [200] * 5
    r = httpx.post(f"{live}/predict", content=b"x" * 1_100_000, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"].startswith("the request body is larger")
    assert httpx.get(f"{live}/openapi.json").json()["info"]["title"] == "dlcc: fast"


def test_cli_bad_inputs_exit_2_with_one_line(tmp_path, capsys, fast_run):
    cases = [
        (["serve", str(tmp_path / "missing")], "does not exist"),
        (["serve"], "name one model"),
        (["serve", str(fast_run), "--model", "ecg-rpeak"], "name one model"),
        (["serve", "--model", "nope"], "dlcc ships no model called 'nope'"),
        (["serve", str(fast_run), "--port", "70000"], "--port 70000 is not a port number"),
        (["serve", str(fast_run), "--max-mb", "0"], "--max-mb 0 is out of range"),
        (["serve", str(fast_run), "--threads", "0"], "--threads 0 must be at least 1"),
    ]
    for argv, words in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err, (argv, err)


def test_cli_refuses_a_busy_port(fast_run, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", str(fast_run), "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_cli_names_the_missing_extra(fast_run, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)          # import uvicorn -> ImportError
    assert main(["serve", str(fast_run)]) == 2
    assert "pip install 'dlcc[serve]'" in capsys.readouterr().err
