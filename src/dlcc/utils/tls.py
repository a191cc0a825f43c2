"""Is HTTPS to the package index and the data sources trusted, or does the network intercept it?

Institutional networks often inspect HTTPS by re-signing every site's certificate with their own
root CA. Browsers trust that CA (IT installs it); Python usually does not, because pip and
requests use certifi's bundle and `ssl` uses OpenSSL's. Then every download fails with
CERTIFICATE_VERIFY_FAILED. `check_url` connects once, with a short timeout, and tells apart:

- "ok": the certificate verified;
- "intercepted": verification failed in a way a re-signing proxy causes (an unknown or
  self-signed issuer, or a certificate for another host name);
- "tls-error": verification failed otherwise (e.g. expired: check the clock);
- "unreachable": no connection at all (offline, firewall, DNS) — not a certificate problem.

`check_urls` runs the checks in parallel daemon threads under one deadline, so an unanswered DNS
lookup cannot hold up the caller.
"""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

# OpenSSL verify codes that a re-signing proxy produces.
INTERCEPTION_CODES = {
    18: "self-signed certificate",
    19: "self-signed certificate in the certificate chain",
    20: "unable to get the local issuer certificate",
    21: "unable to verify the first certificate",
    62: "certificate is for another host name",
}
CA_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT", "CURL_CA_BUNDLE")


@dataclass
class TLSResult:
    url: str
    status: str                 # "ok", "intercepted", "tls-error", "unreachable"
    detail: str = ""
    issuer: str = ""            # who signed the certificate we were shown, when known
    fingerprint: str = ""       # SHA-256 of that certificate, to show IT

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _context(cafile: str | None) -> ssl.SSLContext:
    """Trust `cafile` only, or (None) what Python's ssl trusts: the system store, or
    SSL_CERT_FILE / SSL_CERT_DIR when set."""
    return ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()


def certifi_bundle() -> str | None:
    try:
        import certifi
    except ImportError:
        return None
    return certifi.where()


def tool_stores() -> dict[str, str | None]:
    """The CA file each tool verifies with here (None: Python's default store).

    pip: PIP_CERT, else its configured `cert`, else certifi; requests: REQUESTS_CA_BUNDLE or
    CURL_CA_BUNDLE, else certifi; Python's ssl (urllib, torch.hub, dlcc's downloads): the
    system store, or SSL_CERT_FILE.
    """
    return {"python ssl (urllib, torch.hub, dlcc data fetch)": None,
            "requests (wandb, mlflow, huggingface)": os.environ.get("REQUESTS_CA_BUNDLE")
            or os.environ.get("CURL_CA_BUNDLE") or certifi_bundle(),
            "pip": os.environ.get("PIP_CERT") or _pip_config_cert() or certifi_bundle()}


def _pip_config_cert() -> str | None:
    """pip's configured `cert` (pip.conf / pip.ini), asked of pip itself; None if unset."""
    import subprocess
    import sys

    try:
        out = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.cert"],
                             capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = out.stdout.strip()
    return value if out.returncode == 0 and value else None


def _presented_certificate(host: str, port: int, timeout: float) -> tuple[str, str]:
    """(issuer, sha256) of the certificate the server shows, fetched without verifying."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            with ctx.wrap_socket(sock, server_hostname=host) as tls:
                der = tls.getpeercert(binary_form=True) or b""
    except OSError:
        return "", ""
    issuer = ""
    try:
        from cryptography import x509

        issuer = x509.load_der_x509_certificate(der).issuer.rfc4514_string()
    except Exception:   # cryptography is optional; the fingerprint is enough to ask IT
        pass
    return issuer, hashlib.sha256(der).hexdigest()


def check_url(url: str, timeout: float = 4.0, cafile: str | None = None) -> TLSResult:
    """Open a TLS connection to `url`'s host and verify its certificate (nothing is sent)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    try:
        ctx = _context(cafile)
    except (OSError, ssl.SSLError) as exc:
        return TLSResult(url, "tls-error", f"cannot read the CA file {cafile}: {exc}")
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            with ctx.wrap_socket(sock, server_hostname=host):
                return TLSResult(url, "ok")
    except ssl.SSLCertVerificationError as exc:
        code = getattr(exc, "verify_code", None)
        message = getattr(exc, "verify_message", "") or str(exc)
        issuer, fingerprint = _presented_certificate(host, port, timeout)
        status = "intercepted" if code in INTERCEPTION_CODES else "tls-error"
        return TLSResult(url, status, f"{message} (verify code {code})", issuer, fingerprint)
    except ssl.SSLError as exc:
        return TLSResult(url, "tls-error", str(exc))
    except OSError as exc:
        return TLSResult(url, "unreachable", exc.strerror or type(exc).__name__)


def check_urls(urls: list[str], timeout: float = 4.0, deadline: float = 6.0,
               cafile: str | None = None) -> list[TLSResult]:
    """`check_url` for each URL in parallel; any check not done within `deadline` seconds is
    reported as unreachable."""
    results: dict[int, TLSResult] = {}

    def work(i: int, url: str) -> None:
        results[i] = check_url(url, timeout, cafile)

    threads = [threading.Thread(target=work, args=(i, u), daemon=True) for i, u in enumerate(urls)]
    for t in threads:
        t.start()
    end = time.monotonic() + deadline
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    return [results.get(i, TLSResult(u, "unreachable", f"no answer within {deadline:g} s"))
            for i, u in enumerate(urls)]


def ca_variable_problems() -> list[tuple[str, str]]:
    """(variable, path) for each CA-bundle variable that is set to a file that does not exist."""
    return [(name, os.environ[name]) for name in CA_VARIABLES
            if os.environ.get(name) and not os.path.isfile(os.environ[name])]


def interception_fix(bundle_hint: str = "~/corp-ca-bundle.pem") -> str:
    """The commands that make Python, pip, requests and torch.hub trust an organisation's CA."""
    return (
        "ask IT for your organisation's root CA certificate (PEM), then build one bundle with it "
        "and point every tool at it:\n"
        f"        cat \"$(python -m certifi)\" corp-root-ca.pem > {bundle_hint}\n"
        f"        export SSL_CERT_FILE={bundle_hint}        # Python ssl/urllib: torch.hub, dlcc data fetch\n"
        f"        export REQUESTS_CA_BUNDLE={bundle_hint}   # requests: wandb, huggingface, mlflow\n"
        f"        pip config set global.cert {bundle_hint}  # pip (or export PIP_CERT={bundle_hint})\n"
        "      (put the exports in ~/.bashrc; on Windows use setx. Do not switch verification off "
        "with pip's trusted-host: that accepts any certificate.)"
    )
