"""The HTTP API provider against a small controller-like HTTP service on 127.0.0.1: auth from the
secrets group, retries only where re-sending is safe, one error type per failure, and the token
never in a log line, an exception or a repr."""

from __future__ import annotations

import base64
import json
import logging
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from catalog import models as m
from catalog.models.choices import SecretBackend
from catalog.rendering import RenderError
from catalog.secrets import Secret
from drivers.http_provider import (
    ApiAuthenticationFailed,
    ApiConnectionDropped,
    ApiError,
    ApiNotFound,
    ApiPermissionDenied,
    ApiRequestRejected,
    ApiServerError,
    ApiSettingsError,
    ApiTimeout,
    ApiUnexpectedStatus,
    ApiUnreachable,
    HttpApiProvider,
)
from drivers.redaction import MASK

TOKEN = "tok-Controller-5ecret-never-shown"
USERNAME = "api-admin"
PASSWORD = "Basic-Pa55word-never-shown"
SLOW_SECONDS = 1.0


class Controller(ThreadingHTTPServer):
    """Counts every request it sees, by method and path (query string excluded)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ControllerHandler)
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up on /slow (the timeout tests) is expected: no traceback in
        # the test log for its broken pipe. Anything else is reported as usual.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def count(self, method: str, path: str) -> int:
        with self.lock:
            return self.seen[f"{method} {path}"]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ControllerHandler(BaseHTTPRequestHandler):
    server: Controller

    def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
        pass

    def do_GET(self) -> None:
        self.handle_any("GET")

    def do_POST(self) -> None:
        self.handle_any("POST")

    def do_PUT(self) -> None:
        self.handle_any("PUT")

    def do_PATCH(self) -> None:
        self.handle_any("PATCH")

    def do_DELETE(self) -> None:
        self.handle_any("DELETE")

    def reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        ctype = "text/plain" if isinstance(body, str) else "application/json"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def authorised(self, prefix: str) -> bool:
        if prefix == "/xauth":
            return self.headers.get("X-Auth-Token") == TOKEN
        if prefix == "/basic":
            expected = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
            return self.headers.get("Authorization") == f"Basic {expected}"
        return self.headers.get("Authorization") == f"Bearer {TOKEN}"

    def handle_any(self, method: str) -> None:
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        with self.server.lock:
            self.server.seen[f"{method} {path}"] += 1
            seen = self.server.seen[f"{method} {path}"]
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        prefix = "/" + path.split("/")[1]
        if not self.authorised(prefix):
            self.reply(401, {"detail": "Invalid token."}, {"WWW-Authenticate": "Bearer"})
            return
        route = path.split("/", 2)[2] if path.count("/") >= 2 else ""
        name = route.split("/")[0]
        if name == "devices":
            self.reply(200, {"results": [{"name": "sw1"}, {"name": "sw2"}], "query": query})
        elif name == "flaky":  # 503 for the first ?fail=N requests to this path, then 200
            if seen <= int(query.get("fail", ["2"])[0]):
                self.reply(503, {"detail": "Service temporarily unavailable"})
            else:
                self.reply(200, {"ok": True, "seen": seen})
        elif name == "unavailable":  # always 503, whatever the method
            self.reply(503, "upstream is down for maintenance")
        elif name == "vlans" and method == "POST":
            self.reply(201, {"created": body, "path": path})
        elif name == "slow":
            time.sleep(SLOW_SECONDS)
            self.reply(200, {"slow": True})
        elif name == "forbidden":
            self.reply(403, {"detail": "You do not have permission to perform this action."})
        elif name == "invalid":
            self.reply(422, {"errors": {"vid": ["must be between 1 and 4094"]}, "padding": "x" * 2000})
        elif name == "crash":
            self.reply(500, "Traceback (most recent call last): " + "frame " * 500)
        elif name == "echo-auth":  # a careless API that quotes the credentials it was sent
            self.reply(400, f"bad request with authorization {self.headers.get('Authorization')}")
        elif name == "moved":
            self.reply(302, "", {"Location": "http://198.51.100.7/elsewhere"})
        elif name == "drop":  # the request arrived; the connection breaks before any answer
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self.reply(404, {"detail": "Not found."})


@pytest.fixture(scope="module")
def controller() -> Iterator[Controller]:
    server = Controller()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def refused_url() -> str:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def provider(
    base_url: str, secrets: dict[str, str] | None = None, *, group: str | None = "controller-creds", **settings: Any
) -> HttpApiProvider:
    values = {"token": TOKEN} if secrets is None else secrets
    return HttpApiProvider(
        "lab-controller",
        {"base_url": base_url, "retry_backoff": 0.01, **settings},
        {k: Secret(v) for k, v in values.items()},
        credentials_group=group,
    )


def assert_no_secret(error: BaseException) -> None:
    text = f"{error}\n{error!r}\n{getattr(error, 'what', '')}"
    for secret in (TOKEN, PASSWORD):
        assert secret not in text
    # Nothing chained: httpx's exception holds the request, headers and all.
    assert error.__cause__ is None
    assert error.__context__ is None


# -- success paths ---------------------------------------------------------------------------------


async def test_get_with_a_bearer_token_returns_json(controller: Controller) -> None:
    async with provider(controller.base_url) as api:
        result = await api.get("/api/devices/", params={"site": "lon1", "active": True})
    assert result.status == 200
    assert result.json["results"] == [{"name": "sw1"}, {"name": "sw2"}]
    assert result.json["query"] == {"site": ["lon1"], "active": ["true"]}
    assert result.headers["content-type"] == "application/json"
    assert result.elapsed > 0
    assert result.attempts == 1


async def test_a_custom_token_header_carries_the_bare_token(controller: Controller) -> None:
    async with provider(controller.base_url, token_header="X-Auth-Token") as api:
        assert (await api.get("/xauth/devices/")).status == 200
        # The same token as a bearer header is not what this endpoint takes.
    async with provider(controller.base_url) as api:
        with pytest.raises(ApiAuthenticationFailed):
            await api.get("/xauth/devices/")


async def test_username_and_password_become_http_basic(controller: Controller) -> None:
    async with provider(controller.base_url, {"username": USERNAME, "password": PASSWORD}) as api:
        assert (await api.get("/basic/devices/")).status == 200
    async with provider(controller.base_url, {"username": USERNAME, "password": "wrong-password"}) as api:
        with pytest.raises(ApiAuthenticationFailed) as caught:
            await api.get("/basic/devices/")
    assert "secrets group 'controller-creds'" in str(caught.value)


async def test_from_config_resolves_the_secrets_group_at_connect_time(
    controller: Controller, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = m.SecretsGroup(
        name="controller-creds",
        entries=[m.SecretsGroupEntry(name="token", backend=SecretBackend.ENV, reference="TEST_CONTROLLER_TOKEN")],
    )
    config = m.ProviderConfig(name="lab-controller", settings={"base_url": controller.base_url}, credentials=group)
    monkeypatch.delenv("TEST_CONTROLLER_TOKEN", raising=False)
    with pytest.raises(ApiSettingsError, match="TEST_CONTROLLER_TOKEN"):
        HttpApiProvider.from_config(config)
    monkeypatch.setenv("TEST_CONTROLLER_TOKEN", TOKEN)
    api = HttpApiProvider.from_config(config)
    assert TOKEN not in repr(api)
    async with api:
        assert (await api.get("/api/devices/")).status == 200


# -- retries -----------------------------------------------------------------------------------------


async def test_get_is_retried_on_503_until_it_succeeds(controller: Controller) -> None:
    async with provider(controller.base_url, retries=2) as api:
        result = await api.get("/api/flaky/get-two-failures", params={"fail": 2})
    assert result.json == {"ok": True, "seen": 3}
    assert result.attempts == 3
    assert controller.count("GET", "/api/flaky/get-two-failures") == 3


async def test_get_gives_up_after_the_configured_retries(controller: Controller) -> None:
    async with provider(controller.base_url, retries=2) as api:
        with pytest.raises(ApiServerError) as caught:
            await api.get("/api/unavailable/get")
    assert controller.count("GET", "/api/unavailable/get") == 3
    assert "HTTP 503" in str(caught.value)
    assert "after 3 attempts" in str(caught.value)
    assert "upstream is down for maintenance" in str(caught.value)
    async with provider(controller.base_url, retries=0) as api:
        with pytest.raises(ApiServerError):
            await api.get("/api/unavailable/no-retries")
    assert controller.count("GET", "/api/unavailable/no-retries") == 1


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_a_request_that_may_change_state_is_never_resent(controller: Controller, method: str) -> None:
    path = f"/api/unavailable/{method.lower()}-once"
    async with provider(controller.base_url, retries=3) as api:
        with pytest.raises(ApiServerError) as caught:
            await api.request(method, path, json={"vid": 120})
    assert controller.count(method, path) == 1
    assert "attempts" not in str(caught.value)
    assert caught.value.status == 503


async def test_post_to_a_flaky_endpoint_is_not_retried_either(controller: Controller) -> None:
    async with provider(controller.base_url, retries=3) as api:
        with pytest.raises(ApiServerError):
            await api.post("/api/flaky/post", json={"vid": 1}, params={"fail": 1})
    assert controller.count("POST", "/api/flaky/post") == 1


async def test_a_dropped_connection_after_a_post_is_reported_not_resent(controller: Controller) -> None:
    async with provider(controller.base_url, retries=3) as api:
        with pytest.raises(ApiConnectionDropped) as caught:
            await api.post("/api/drop/post", json={"vid": 1})
    assert controller.count("POST", "/api/drop/post") == 1
    assert "not sent again" in str(caught.value)
    assert_no_secret(caught.value)


async def test_a_refused_port_is_unreachable_after_every_attempt(refused_url: str) -> None:
    async with provider(refused_url, retries=2) as api:
        with pytest.raises(ApiUnreachable) as caught:
            await api.get("/api/devices/")
    text = str(caught.value)
    assert "provider config lab-controller, GET /api/devices/" in text
    assert f"cannot connect to {refused_url}" in text
    assert "after 3 attempts" in text
    assert_no_secret(caught.value)
    # The request never left: even a POST is safe to try again, and is.
    async with provider(refused_url, retries=1) as api:
        with pytest.raises(ApiUnreachable, match="after 2 attempts"):
            await api.post("/api/vlans/", json={"vid": 1})


async def test_a_slow_answer_times_out_and_is_not_retried(controller: Controller) -> None:
    async with provider(controller.base_url, timeout=0.2, retries=2) as api:
        started = time.perf_counter()
        with pytest.raises(ApiTimeout) as caught:
            await api.get("/api/slow/")
        assert time.perf_counter() - started < SLOW_SECONDS
    assert controller.count("GET", "/api/slow/") == 1
    assert "no answer within 0.2s" in str(caught.value)
    assert_no_secret(caught.value)


# -- errors ------------------------------------------------------------------------------------------


async def test_http_errors_each_have_their_own_type_and_message(controller: Controller) -> None:
    async with provider(controller.base_url) as api:
        with pytest.raises(ApiPermissionDenied) as forbidden:
            await api.get("/api/forbidden/")
        with pytest.raises(ApiNotFound) as missing:
            await api.delete("/api/nothing-here/42/")
        with pytest.raises(ApiRequestRejected) as invalid:
            await api.patch("/api/invalid/", json={"vid": 5000})
        with pytest.raises(ApiServerError) as crash:
            await api.get("/api/crash/")
        with pytest.raises(ApiRequestRejected) as moved:
            await api.get("/api/moved/")
    assert "HTTP 403" in str(forbidden.value)
    assert "nettui secrets check controller-creds" in str(forbidden.value)
    assert str(missing.value).startswith("provider config lab-controller, DELETE /api/nothing-here/42/: HTTP 404")
    assert "must be between 1 and 4094" in str(invalid.value)
    assert invalid.value.status == 422
    # A long body is quoted, not pasted whole.
    assert len(str(invalid.value)) < 600
    assert len(str(crash.value)) < 600
    assert str(crash.value).rstrip().endswith("...")
    assert "redirected to http://198.51.100.7/elsewhere, which is not followed" in str(moved.value)
    for caught in (forbidden, missing, invalid, crash, moved):
        assert_no_secret(caught.value)


async def test_a_wrong_token_is_an_authentication_failure_naming_the_secrets_group(controller: Controller) -> None:
    async with provider(controller.base_url, {"token": "tok-wrong-token-value"}) as api:
        with pytest.raises(ApiAuthenticationFailed) as caught:
            await api.get("/api/devices/")
    text = str(caught.value)
    assert "HTTP 401" in text
    assert "provider config lab-controller, GET /api/devices/" in text
    assert "hint: check the secrets group 'controller-creds'" in text
    assert "tok-wrong-token-value" not in text
    assert caught.value.__context__ is None
    async with provider(controller.base_url, {}, group=None) as api:
        with pytest.raises(ApiAuthenticationFailed, match="has no secrets group"):
            await api.get("/api/devices/")


async def test_the_token_never_reaches_a_log_line_or_an_error(
    controller: Controller, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with provider(controller.base_url, retries=1) as api:
        await api.get("/api/devices/")
        await api.get("/api/flaky/logged", params={"fail": 1})
        with pytest.raises(ApiRequestRejected) as caught:
            await api.get("/api/echo-auth/")
    # httpx and httpcore did log (so the check below means something) ...
    assert any(r.name == "httpx" and r.levelno == logging.INFO for r in caplog.records)
    assert any(r.name.startswith("httpcore") and r.levelno == logging.DEBUG for r in caplog.records)
    assert any(r.name == "drivers.http_provider" and "retrying" in r.getMessage() for r in caplog.records)
    # ... and no record carried the token, not even one the redaction had to mask.
    assert TOKEN not in caplog.text
    assert MASK not in caplog.text
    # The API quoted the credentials back: the error says so without them.
    assert TOKEN not in str(caught.value)
    assert str(caught.value).endswith(f"authorization {MASK}")
    assert TOKEN not in repr(api)


# -- settings and api_call ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "settings.base_url is missing"),
        ({"base_url": "ftp://controller/"}, "must be an absolute http"),
        ({"base_url": "https://admin:hunter2-secret@controller/"}, "contains a user name or password"),
        ({"base_url": "https://c/", "timeout": "fast"}, "settings.timeout must be a number"),
        ({"base_url": "https://c/", "retries": 1.5}, "whole number"),
        ({"base_url": "https://c/", "retries": 99}, "settings.retries must be a number from 0 to 10"),
        ({"base_url": "https://c/", "headers": {"Authorization": "Bearer abc"}}, "carries credentials"),
        ({"base_url": "https://c/", "token_header": "X-Auth-Token", "headers": {"x-auth-token": "a"}}, "carries"),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ApiSettingsError, match=message) as caught:
        HttpApiProvider("lab-controller", settings, {"token": Secret(TOKEN)})
    assert "hunter2-secret" not in str(caught.value)
    assert "provider config lab-controller" in str(caught.value)


async def test_a_ca_bundle_path_that_cannot_be_read_is_a_settings_error(tmp_path: Path) -> None:
    api = HttpApiProvider("lab-controller", {"base_url": "https://c/", "verify_tls": str(tmp_path / "missing.pem")})
    with pytest.raises(ApiSettingsError, match="cannot load CA certificates"):
        await api.open()
    (tmp_path / "bad.pem").write_text("not a certificate")
    api = HttpApiProvider("lab-controller", {"base_url": "https://c/", "verify_tls": str(tmp_path / "bad.pem")})
    with pytest.raises(ApiSettingsError, match=r"settings\.verify_tls"):
        await api.open()


def test_incomplete_credentials_are_refused() -> None:
    with pytest.raises(ApiSettingsError, match="has username but no password"):
        HttpApiProvider("lab-controller", {"base_url": "https://c/"}, {"username": Secret(USERNAME)})


@pytest.mark.parametrize("path", ["http://198.51.100.7/steal", "//198.51.100.7/steal", "https://evil.example/"])
async def test_a_path_that_would_leave_base_url_is_refused_before_sending(controller: Controller, path: str) -> None:
    before = sum(controller.seen.values())
    async with provider(controller.base_url) as api:
        with pytest.raises(ApiError, match="not a relative path under base_url"):
            await api.get(path)
    assert sum(controller.seen.values()) == before


async def test_api_call_renders_the_action_config_against_the_context(controller: Controller) -> None:
    action_config = {
        "method": "post",
        "path": "/api/vlans/{{ device.location }}/",
        "body": {
            "vid": "{{ intended.vlan }}",  # one expression: stays an int
            "name": "users-{{ intended.vlan }}",  # text around it: rendered as text
            "tagged": ["{{ intended.tagged }}", 30],
            "site": "{{ device.location | upper }}",
        },
        "expect_status": 201,
    }
    context = {"device": {"name": "sw1", "location": "lon1"}, "intended": {"vlan": 120, "tagged": [10, 20]}}
    async with provider(controller.base_url) as api:
        result = await api.api_call(action_config, context)
    assert result.status == 201
    assert result.json["path"] == "/api/vlans/lon1/"
    assert result.json["created"] == {"vid": 120, "name": "users-120", "tagged": [[10, 20], 30], "site": "LON1"}


async def test_api_call_expect_status(controller: Controller) -> None:
    async with provider(controller.base_url) as api:
        gone = await api.api_call({"method": "GET", "path": "/api/vlan-{{ vid }}/", "expect_status": [404]}, {"vid": 9})
        assert gone.status == 404
        with pytest.raises(ApiUnexpectedStatus, match="HTTP 200, but the implementation expects 204"):
            await api.api_call({"path": "/api/devices/", "expect_status": 204}, {})


async def test_api_call_templates_run_in_the_sandbox(controller: Controller) -> None:
    before = sum(controller.seen.values())
    async with provider(controller.base_url) as api:
        with pytest.raises(RenderError, match="refused by the sandbox"):
            await api.api_call({"path": "/api/{{ ''.__class__.__mro__[1].__subclasses__() }}/"}, {})
        with pytest.raises(RenderError, match="undefined"):
            await api.api_call({"path": "/api/devices/", "params": {"site": "{{ missing.site }}"}}, {})
        with pytest.raises(ApiSettingsError, match=r"action_config\.path is missing"):
            await api.api_call({"method": "GET"}, {})
        # A template that renders to another host is refused like a literal one.
        with pytest.raises(ApiError, match="not a relative path"):
            await api.api_call({"path": "{{ target }}"}, {"target": "http://198.51.100.7/steal"})
    assert sum(controller.seen.values()) == before
