"""`dlcc doctor` tells TLS interception apart from a healthy or an unreachable network, offline:
a local HTTPS server with a self-signed certificate plays the intercepting proxy."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

from dlcc.cli import main

CA_VARS = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT", "CURL_CA_BUNDLE", "SSL_CERT_DIR")


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    """A certificate for 127.0.0.1 signed by nobody anyone trusts, and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=Example Corp Inspection CA", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture
def https_server(self_signed):
    """An HTTPS endpoint on 127.0.0.1 that completes TLS handshakes and then hangs up."""
    cert, key = self_signed
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.settimeout(1)
                    tls.recv(1)
            except OSError:
                pass        # a client that rejects the certificate aborts the handshake

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}/"
    stop.set()
    thread.join(2)
    listener.close()


@pytest.fixture
def clean_ca_env(monkeypatch):
    for name in CA_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")       # no pip.conf `cert` either


def test_self_signed_certificate_is_reported_as_interception_with_the_fix(capsys, https_server, clean_ca_env):
    assert main(["doctor", "--url", https_server]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM: TLS interception" in out and "Example Corp Inspection CA" in out
    for needed in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "pip config set global.cert", "PIP_CERT",
                   "torch.hub"):
        assert needed in out


def test_interception_in_json(capsys, https_server, clean_ca_env):
    assert main(["doctor", "--json", "--url", https_server]) == 1
    report = json.loads(capsys.readouterr().out)
    assert {row["status"] for row in report["network"]} == {"intercepted"}
    assert any("TLS interception" in p["problem"] for p in report["problems"])


def test_trusting_the_ca_in_every_tool_makes_it_healthy(capsys, monkeypatch, https_server, self_signed,
                                                        clean_ca_env, tmp_path):
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT"):
        monkeypatch.setenv(name, str(self_signed[0]))
    monkeypatch.setenv("DLCC_DATA", str(tmp_path))
    code = main(["doctor", "--json", "--url", https_server])
    report = json.loads(capsys.readouterr().out)
    assert {row["status"] for row in report["network"]} == {"ok"}
    assert not any("TLS" in p["problem"] for p in report["problems"]), report["problems"]
    assert code == (1 if report["problems"] else 0)


def test_a_closed_port_is_unreachable_not_interception(capsys, clean_ca_env):
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]          # closed again when the block ends
    main(["doctor", "--json", "--url", f"https://127.0.0.1:{port}/"])
    report = json.loads(capsys.readouterr().out)
    assert {row["status"] for row in report["network"]} == {"unreachable"}
    assert not any("TLS" in p["problem"] for p in report["problems"])
    assert any("no connection to" in n["note"] for n in report["notes"])


def test_a_ca_variable_naming_a_missing_file_is_a_problem(capsys, monkeypatch, https_server, clean_ca_env, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "nope.pem"))
    assert main(["doctor", "--url", https_server]) == 1
    assert "REQUESTS_CA_BUNDLE points to" in capsys.readouterr().out


def test_offline_skips_the_network(capsys, monkeypatch):
    monkeypatch.setenv("DLCC_OFFLINE", "1")
    start = time.monotonic()
    main(["doctor", "--json"])
    assert "network" not in json.loads(capsys.readouterr().out)
    assert time.monotonic() - start < 30
    main(["doctor", "--json", "--offline"])
    assert "network" not in json.loads(capsys.readouterr().out)


def test_url_must_be_https(capsys):
    assert main(["doctor", "--url", "http://pypi.org/"]) == 2
    err = capsys.readouterr().err
    assert "is not an https:// address" in err and "Traceback" not in err


@pytest.mark.slow
def test_real_check_of_index_and_data_sources_finishes_quickly(capsys, monkeypatch):
    """Against the real hosts: every address gets a status within the deadline (offline machines
    report them unreachable; that is a note, not a failure)."""
    monkeypatch.delenv("DLCC_OFFLINE", raising=False)
    start = time.monotonic()
    main(["doctor", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert time.monotonic() - start < 60
    statuses = {row["status"] for row in report["network"]}
    assert statuses <= {"ok", "intercepted", "tls-error", "unreachable"}
    assert any("pypi.org" in row["url"] for row in report["network"])
