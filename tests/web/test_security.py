"""Who may reach the dashboard: loopback by default, the access token elsewhere, CSRF on forms."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from marginbook.app.dashboard import Dashboard
from marginbook.domain.errors import MarginbookError
from marginbook.web import security
from marginbook.web.main import create_app
from marginbook.web.settings import WebSettings, is_loopback
from tests.web.conftest import make_store

TOKEN = "s3cret-token-for-tests-only-0123456789abcdef"


def token_client(host: str = "0.0.0.0") -> TestClient:
    settings = WebSettings(host=host, token_hash=security.hash_token(TOKEN))
    return TestClient(create_app(settings, dashboard=Dashboard(make_store())), base_url="http://192.0.2.10:8000")


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "example.org"])
def test_refuses_to_start_beyond_loopback_without_a_token(host: str) -> None:
    with pytest.raises(MarginbookError, match="without an access token"):
        create_app(WebSettings(host=host), dashboard=Dashboard(make_store()))


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True),
                                                ("[::1]", True), ("localhost", True), ("0.0.0.0", False),
                                                ("10.0.0.1", False), ("localhost.evil.org", False)])
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("path", ["/api/portfolio", "/api/events", "/api/tax/2025", "/api/openapi.json"])
def test_api_without_the_token_is_401_off_localhost(path: str) -> None:
    response = token_client().get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_unsafe_request_without_the_token_is_401_not_executed() -> None:
    client = token_client()
    response = client.post("/api/import", files={"file": ("a.csv", "x", "text/csv")})
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/", "/taxes/2025", "/import", "/static/plotly.min.js"])
def test_pages_without_the_token_redirect_to_login(path: str) -> None:
    response = token_client().get(path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_wrong_token_is_refused() -> None:
    response = token_client().get("/api/portfolio", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_bearer_token_opens_the_api_and_counts_as_csrf_proof() -> None:
    client = token_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/api/portfolio", headers=auth).status_code == 200
    upload = "timestamp,type,wallet,asset,amount\n2025-05-01T00:00:00Z,deposit,w,USD,1\n"
    response = client.post("/api/import", files={"file": ("a.csv", upload, "text/csv")}, headers=auth)
    assert response.json() == {"added": 1, "unchanged": 0}


def test_login_form_sets_the_cookie_that_opens_the_pages() -> None:
    client = token_client()
    form = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf is not None
    wrong = client.post("/login", data={"token": "nope", "csrf_token": csrf.group(1)})
    assert wrong.status_code == 401
    response = client.post("/login", data={"token": TOKEN, "csrf_token": csrf.group(1)}, follow_redirects=False)
    assert response.status_code == 303
    assert "httponly" in response.headers["set-cookie"].lower()
    assert client.get("/").status_code == 200


def test_login_without_csrf_field_is_forbidden() -> None:
    client = token_client()
    client.get("/login")
    assert client.post("/login", data={"token": TOKEN}).status_code == 403


def test_loopback_server_refuses_a_foreign_host_header(dashboard: Dashboard) -> None:
    client = TestClient(create_app(WebSettings(), dashboard=dashboard), base_url="http://attacker.example:8000")
    assert client.get("/api/portfolio").status_code == 400
    local = TestClient(create_app(WebSettings(), dashboard=dashboard), base_url="http://localhost:8000")
    assert local.get("/api/portfolio").status_code == 200


def test_form_post_without_matching_csrf_token_is_forbidden(client: TestClient) -> None:
    client.get("/import")
    files = {"file": ("a.csv", "timestamp,type,wallet,asset,amount\n", "text/csv")}
    assert client.post("/import", files=files, data={"csrf_token": "forged"}).status_code == 403


def test_pages_carry_protective_headers(client: TestClient) -> None:
    headers = client.get("/").headers  # the first page sets the CSRF cookie
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "samesite=strict" in headers["set-cookie"].lower() and "httponly" in headers["set-cookie"].lower()


def test_created_token_is_stored_only_as_its_hash(tmp_path: Path) -> None:
    token = security.create_token(tmp_path)
    stored = security.token_file(tmp_path)
    assert token not in stored.read_text()
    assert security.load_token_hash(tmp_path) == security.hash_token(token)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert security.token_matches(token, security.hash_token(token))
    assert not security.token_matches(token + "x", security.hash_token(token))


def test_serve_shows_a_new_token_once_and_then_only_uses_its_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from marginbook.cli.commands import serve
    from marginbook.cli.main import app

    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda application, **kwargs: started.append((application, kwargs)))
    monkeypatch.setattr(serve, "data_dir", lambda: tmp_path)
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    runner = CliRunner()
    first = runner.invoke(app, ["--db", db, "serve", "--host", "0.0.0.0", "--port", "8765"])
    assert first.exit_code == 0, first.output
    token = re.search(r"Access token[^\n]*\n\s+(\S+)", first.output)
    assert token is not None
    assert security.load_token_hash(tmp_path) == security.hash_token(token.group(1))
    second = runner.invoke(app, ["--db", db, "serve", "--host", "0.0.0.0", "--port", "8765"])
    assert "Access token" not in second.output
    assert len(started) == 2 and started[0][1] == {"host": "0.0.0.0", "port": 8765, "log_level": "warning"}
    local = runner.invoke(app, ["--db", db, "serve"])
    assert local.exit_code == 0 and "Access token" not in local.output
