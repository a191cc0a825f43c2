"""Fixtures for the data-layer tests: a real HTTP server on 127.0.0.1, file hashing helpers."""

from __future__ import annotations

import hashlib
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


class _Handler(BaseHTTPRequestHandler):
    """Serves files under server.root; server.modes[path] changes how one path behaves:
    "404", "corrupt" (one byte flipped), "cut" (half the body, then close, with the full
    Content-Length), "cut-nolength" (half the body, no Content-Length)."""

    def do_GET(self):  # noqa: N802 (http.server naming)
        server = self.server
        server.requests.append(self.path)
        mode = server.modes.get(self.path, "ok")
        file = server.root / self.path.lstrip("/")
        if mode == "404" or not file.is_file():
            self.send_error(404, "Not Found")
            return
        data = file.read_bytes()
        if mode == "corrupt":
            data = data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 0xFF]) + data[len(data) // 2 + 1:]
        self.send_response(200)
        if mode != "cut-nolength":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if mode.startswith("cut"):
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def http_mirror(tmp_path, shared_data):
    """A live HTTP server on 127.0.0.1 serving copies of a few shared-data files in the shared
    layout (`/<folder>/<relpath>`). Yields the server: .url, .root, .modes, .requests."""
    root = tmp_path / "served"
    for rel in ["tinyshakespeare/input.txt", "ecg_scipy/ecg.dat",
                "mnist/t10k-labels-idx1-ubyte.gz", "mnist/train-labels-idx1-ubyte.gz",
                "mnist/t10k-images-idx3-ubyte.gz", "mnist/train-images-idx3-ubyte.gz"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared_data / rel, root / rel)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.root, server.modes, server.requests = root, {}, []
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _tree_digest(folder: Path) -> dict[str, tuple[str, int]]:
    return {p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                               p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def tree_digest():
    """tree_digest(folder) -> {relpath: (sha256, mtime_ns)}: proves user files were left alone."""
    return _tree_digest


@pytest.fixture
def cli(capsys):
    """cli(*argv) runs `dlcc ARGV` in-process and returns (exit code, stdout, stderr)."""
    from dlcc.cli import main

    def run(*argv):
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run
