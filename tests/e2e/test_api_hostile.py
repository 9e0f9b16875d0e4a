"""What a hostile client tries against the front door, over HTTP against a real ``conum serve``
(uvicorn, its own process, SQLite catalog and local storage under a temp ``CONUM_VAR_DIR``, its
``TMPDIR`` in a test folder, jobs in process): issue 17, items 1, 5, 7 and the rate limit of item 10.

- a 50 MB upload with a made-up token, or to a page's form with a forged session cookie, is answered
  from its headers (401, or the login page) before its body is read: nothing is spooled, the
  server's memory and writes do not grow with it;
- requests without a valid token are rate-limited per client address (``X-Forwarded-For`` from a
  trusted proxy, as the audit log reads it);
- deeply nested JSON, a 5 000-digit number, bytes that are not UTF-8, truncated JSON: 422 naming the
  problem, never a 500 nor a traceback in the log; a client gone mid-body is not an error;
- ``/v1/docs`` loads Swagger UI from the server itself, under the pages' Content-Security-Policy.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import _free_port, terminate

ROOT = Path(__file__).resolve().parents[2]
CONUM = [sys.executable, "-m", "dossiers.entrypoints"]
FIFTY_MB = 50_000_000
SIGNED = "/v1/conventions/CN-V1-STR-000007/versions/1/signed"
FORM = "/conventions/CN-V1-STR-000007/versions/1/copie-signee"
BURST = 20


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    base: str
    port: int
    log: Path
    tmpdir: Path
    token: str

    def tail(self, chars: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def rss(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]

    def written(self) -> int:
        """Bytes the server process passed to write() so far (files and sockets alike)."""
        io = Path(f"/proc/{self.proc.pid}/io").read_text()
        return int(re.search(r"wchar:\s+(\d+)", io).group(1))  # type: ignore[union-attr]

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    base = Path(tempfile.mkdtemp(prefix="conum-hostile-"))
    tmpdir = base / "tmp"
    tmpdir.mkdir()
    env = {**os.environ, "CONUM_VAR_DIR": str(base / "var"), "TMPDIR": str(tmpdir), "PYTHONPATH": str(ROOT),
           "API_RATE_LIMIT": "60", "API_RATE_BURST": str(BURST), "API_TRUSTED_PROXIES": "127.0.0.1"}
    for var in ("DATABASE_URL", "STORAGE_DIR", "ARCHIVE_DIR", "STAGING_DIR", "S3_ENDPOINT_URL", "BROKER_URL",
                "API_WORKERS", "CLAMD_ADDRESS", "SESSION_SECRET"):
        env.pop(var, None)
    created = subprocess.run([*CONUM, "token", "create", "--role", "admin", "--nom", "hostile", "--json"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert created.returncode == 0, created.stderr
    port = _free_port()
    log = base / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([*CONUM, "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    srv = Server(proc, f"http://127.0.0.1:{port}", port, log, tmpdir, json.loads(created.stdout)["token"])
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, srv.tail()
            try:
                if httpx.get(srv.base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        # warm up what the first requests import (catalog, sessions): memory measured afterwards is the body's
        httpx.get(srv.base + "/v1/conventions", headers=srv.auth(), timeout=30)
        httpx.get(srv.base + "/v1/conventions", headers={"Authorization": f"Bearer {_bogus()}"}, timeout=30)
        httpx.post(srv.base + FORM, files={"fichier": ("a.pdf", b"%PDF-1.7\n")}, timeout=30,
                   headers={"Cookie": "conum_session=forge"})
        yield srv
    finally:
        terminate(proc)
        shutil.rmtree(base, ignore_errors=True)


def _multipart_head(path: str, headers: dict[str, str], length: int, *, boundary: str = "b0undary") -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {length}",
             f"Content-Type: multipart/form-data; boundary={boundary}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _part(boundary: str = "b0undary") -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"signe.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n").encode("latin-1")


def _read_status(sock: socket.socket, timeout: float) -> tuple[int, bytes]:
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    match = re.match(rb"HTTP/1\.1 (\d{3})", data)
    assert match, f"pas de réponse HTTP : {data[:200]!r}"
    return int(match.group(1)), data


def _upload(srv: Server, path: str, headers: dict[str, str], size: int = FIFTY_MB) -> tuple[int, bytes, int]:
    """Declare a ``size``-byte multipart body, send 64 KB of it, wait for the answer (it must come
    while the rest is still pending), then push the rest until the server closes the connection.
    Returns (status, head of the answer, bytes of the body the socket accepted)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
        sock.sendall(_multipart_head(path, headers, size))
        first = _part() + b"0" * (65_536 - len(_part()))
        sock.sendall(first)
        sent += len(first)
        status, head = _read_status(sock, timeout=10)  # today's main waits for the whole body here: timeout
        chunk = b"0" * 1_000_000
        try:
            while sent < size:
                sock.sendall(chunk[: size - sent])
                sent += min(len(chunk), size - sent)
        except OSError:  # the server closed the connection: the body is not read
            pass
    return status, head, sent


def _bogus() -> str:
    return "conum_" + secrets.token_urlsafe(32)  # well formed: looked up in the catalog, unknown


# -- item 1: authentication before any body byte ---------------------------------------------------------

@pytest.mark.parametrize("authorization", ["Bearer x", "bogus"])
def test_a_50_mb_upload_with_a_made_up_token_is_401_before_its_body_is_read(server: Server,
                                                                           authorization: str) -> None:
    value = f"Bearer {_bogus()}" if authorization == "bogus" else authorization
    rss, written = server.rss(), server.written()
    status, head, _ = _upload(server, SIGNED, {"Authorization": value})
    assert status == 401, head
    assert b"non_authentifie" in head or b"www-authenticate" in head.lower()
    assert list(server.tmpdir.iterdir()) == []  # nothing spooled under the server's TMPDIR
    assert server.written() - written < 2_000_000, "le corps a été écrit quelque part"
    assert server.rss() - rss < 20_000_000, "la mémoire du serveur a grandi avec le corps"
    assert server.proc.poll() is None


def test_the_same_upload_with_httpx_gets_its_401(server: Server) -> None:
    def body() -> Iterator[bytes]:
        yield _part()
        for _ in range(50):
            yield b"0" * 1_000_000

    try:
        r = httpx.post(server.base + SIGNED, content=body(), timeout=30,
                       headers={"Authorization": f"Bearer {_bogus()}", "Content-Length": str(len(_part()) + FIFTY_MB),
                                "Content-Type": "multipart/form-data; boundary=b0undary"})
    except httpx.TransportError:  # the server may close while the client still writes: never a 2xx
        return
    assert r.status_code == 401 and r.json()["code"] == "non_authentifie"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_50_mb_form_upload_with_a_forged_session_cookie_goes_to_the_login_page_unread(server: Server) -> None:
    rss, written = server.rss(), server.written()
    status, head, _ = _upload(server, FORM, {"Cookie": "conum_session=forge.forge.forge"})
    assert status == 303, head
    assert re.search(rb"(?i)location: /connexion\?suite=/conventions/CN-V1-STR-000007/versions/1/copie-signee", head)
    assert list(server.tmpdir.iterdir()) == []
    assert server.written() - written < 2_000_000
    assert server.rss() - rss < 20_000_000


def test_a_valid_token_still_uploads_past_the_anonymous_cap(server: Server) -> None:
    big = b"%PDF-1.7\n%" + b"0" * 300_000 + b"\n%%EOF\n"  # over 64 KB: only an authenticated request may send it
    r = httpx.post(server.base + SIGNED, headers=server.auth(), files={"fichier": ("s.pdf", big, "application/pdf")},
                   timeout=30)
    assert r.status_code == 404 and r.json()["code"] == "convention_introuvable"  # read, then refused for itself


# -- item 10: unknown tokens are rate-limited per client address -----------------------------------------

def test_a_burst_of_bad_tokens_from_one_address_gets_429(server: Server) -> None:
    here = {"X-Forwarded-For": "198.51.100.10"}  # from 127.0.0.1, a trusted proxy (API_TRUSTED_PROXIES)
    with httpx.Client(base_url=server.base, timeout=10) as client:
        codes = [client.get("/v1/conventions", headers={**here, "Authorization": f"Bearer {_bogus()}"}).status_code
                 for _ in range(BURST + 5)]  # one more request a second is allowed: at most one more 401
        assert codes[:BURST] == [401] * BURST and codes[-3:] == [429] * 3 and set(codes) == {401, 429}, codes
        r = client.post("/v1/dossiers", json={}, headers={**here, "Authorization": "Bearer x"})
        assert r.status_code == 429 and r.json()["code"] == "trop_de_requetes" and int(r.headers["Retry-After"]) >= 1
        r = client.get("/v1/conventions", headers=here)  # no token at all: the same budget
        assert r.status_code == 429
        # another address has its own budget; a valid token from the same address is not slowed down
        assert client.get("/v1/conventions", headers={"X-Forwarded-For": "198.51.100.11",
                                                      "Authorization": "Bearer x"}).status_code == 401
        assert client.get("/v1/conventions", headers={**here, **server.auth()}).status_code == 200
        # health probes and the OpenAPI document are not counted
        assert client.get("/healthz", headers=here).status_code == 200
        assert client.get("/v1/openapi.json", headers=here).status_code == 200


# -- item 5: JSON bodies that break parsers, clients that go away ------------------------------------------

@pytest.mark.parametrize("path", ["/v1/dossiers", "/v1/conventions", "/v1/conventions/CN-V1-STR-000007/changes"])
@pytest.mark.parametrize("body, code, champ", [
    (b"[" * 10_000, "json_trop_profond", ""),
    (b'{"dossier_id": ' + b"7" * 5000 + b"}", "nombre_trop_long", "dossier_id"),
    (b'{"structure": {"postes": [1, ' + b"9" * 5000 + b"]}}", "nombre_trop_long", "structure.postes[1]"),
    (b'{"dossier_id": "DOS-\xff\xfe"}', "utf8_invalide", ""),
    (b'{"dossier_id": "DOS-V1', "json_invalide", ""),
    (b'{"montant": NaN}', "nombre_invalide", ""),
])
def test_a_json_body_that_breaks_parsers_is_a_422_naming_the_problem(server: Server, path: str, body: bytes,
                                                                     code: str, champ: str) -> None:
    r = httpx.post(server.base + path, content=body, timeout=30,
                   headers={**server.auth(), "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    error = r.json()
    assert error["code"] == "requete_invalide" and error["erreurs"][0]["code"] == code
    assert error["erreurs"][0]["champ"] == champ and error["erreurs"][0]["message"]
    log = server.tail(200_000)
    assert "Traceback" not in log and "erreur interne" not in log and "Exception in ASGI" not in log, log[-3000:]


def test_a_client_that_goes_away_mid_body_is_not_an_error(server: Server) -> None:
    for path, kind in (("/v1/dossiers", "application/json"), ("/v1/dossiers/DOS-V1-STR-000007/pieces",
                                                              "multipart/form-data; boundary=b0undary")):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {server.token}\r\n"
                    f"Content-Type: {kind}\r\nContent-Length: 500000\r\n\r\n").encode()
            sock.sendall(head + (b'{"structure": {"id": "STR-' if kind == "application/json" else _part()))
            time.sleep(0.3)  # the server is reading the body
    time.sleep(0.5)
    assert server.proc.poll() is None
    log = server.tail(200_000)
    assert "ERROR" not in log and "Traceback" not in log and "erreur interne" not in log, log[-3000:]


# -- item 7: the interactive documentation is served from the package ---------------------------------------

def test_the_docs_page_loads_nothing_from_another_origin_and_carries_the_csp(server: Server) -> None:
    r = httpx.get(server.base + "/v1/docs", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    refs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert refs and all(ref.startswith("/") and not ref.startswith("//") for ref in refs), refs
    assert "<script>" not in r.text and "cdn" not in r.text.lower()  # no inline script, no CDN
    assert httpx.get(server.base + "/static/api-docs.js", timeout=10).status_code == 200
    if (ROOT / "dossiers/entrypoints/web/static/swagger-ui/swagger-ui-bundle.js").exists():  # after make static
        for ref in refs:
            assert httpx.get(server.base + ref, timeout=10).status_code == 200, ref
    assert httpx.get(server.base + "/v1/openapi.json", timeout=10).json()["openapi"].startswith("3.")


def test_the_json_check_lets_real_demandes_through_and_reads_strings_as_strings() -> None:
    from dossiers.entrypoints.api.gate import MAX_DEPTH, json_problem

    for path in sorted((ROOT / "examples" / "demandes").glob("*.json")):
        assert json_problem(path.read_bytes()) is None, path.name
    tricky = '{"a": "[[[[\\"{{{{", "b": ["]]]", {"c": "' + "[" * 100 + '"}], "n": -1.5e+30}'
    assert json_problem(tricky.encode()) is None
    assert json_problem(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is None
    assert json_problem(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))["code"] == "json_trop_profond"
    deep = b'{"structure": {"adresse": ' + b"[" * 40 + b"]" * 40 + b"}}"
    assert json_problem(deep) == {"champ": "structure.adresse", "code": "json_trop_profond",
                                  "message": f"imbrication de plus de {MAX_DEPTH} niveaux"}


def test_a_token_checked_while_the_catalog_is_down_is_a_503_not_a_500(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from dossiers.entrypoints.api import create_app
    from dossiers.settings import Settings

    settings = Settings(var_dir=tmp_path / "var", database_url="postgresql+psycopg://conum@127.0.0.1:1/absent")
    with TestClient(create_app(settings=settings), raise_server_exceptions=False) as client:
        headers = {"Authorization": f"Bearer {_bogus()}"}
        assert client.get("/v1/conventions", headers=headers).status_code == 503
        r = client.post("/v1/dossiers", json={}, headers=headers)
        assert r.status_code == 503 and r.headers["Retry-After"]
