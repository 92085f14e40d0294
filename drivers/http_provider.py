"""The HTTP API provider: controllers and REST APIs through an async httpx client.

A :class:`HttpApiProvider` is built from a ProviderConfig: ``settings`` say where and how
(``base_url``, ``timeout``, ``retries``, ``verify_tls``, ``headers``, ``token_header``,
``token_prefix``, ``retry_backoff``) and the config's secrets group says who (``token``, or
``username`` + ``password``).

Retries are for failures that cannot have changed anything on the server: a connection that was
never made (refused, connect timeout, no free pooled connection) for any method, and 502/503/504
answers to idempotent methods (GET, HEAD, OPTIONS). A POST, PUT, PATCH or DELETE that may have
reached the server is never sent again: the operator decides.

Secrets never leave :class:`~catalog.secrets.Secret` until httpx writes the request: the auth
header is added by an :class:`httpx.Auth` flow, so neither the client's default headers nor
this object's repr hold it, and every value is registered with :mod:`drivers.redaction` so a
log line that did carry one is masked. Errors are raised outside the ``except`` that caught the
library's exception, so no ``__context__`` keeps httpx's request (and its headers) alive.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from catalog.errors import NettuiError
from catalog.rendering import evaluate, render_template
from catalog.secrets import Secret, SecretResolutionError, resolve_group
from drivers.redaction import excerpt, first_line, redact, register
from drivers.transfer import NoFileTransfer

if TYPE_CHECKING:
    from catalog.models import ProviderConfig

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_TOKEN_HEADER = "Authorization"  # noqa: S105  (a header name, not a password)
DEFAULT_RETRIES = 2
DEFAULT_RETRY_BACKOFF_S = 0.5
MAX_RETRIES = 10
MAX_BACKOFF_S = 10.0
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_STATUSES = frozenset({502, 503, 504})
METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})
# Failures that mean the request never left this machine, so re-sending it is always safe.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


# -- errors ------------------------------------------------------------------------------------------


class ApiError(NettuiError):
    """A failure talking to an API, naming the provider config and, where there is one, the request."""

    def __init__(
        self,
        config: str,
        what: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.config = config
        self.method = method
        self.path = path
        self.status = status
        where = f"provider config {config}" + (f", {method} {path}" if method else "")
        super().__init__(redact(what), where=where, hint=hint)

    def _after_attempts(self, attempts: int) -> None:
        """Say how many times the request was tried (only failures that were retried)."""
        self.what += f" (after {attempts} attempts)"
        self.args = (self.render(),)


class ApiSettingsError(ApiError):
    """The provider config's settings or credentials are missing or invalid."""


class ApiUnreachable(ApiError):
    """No connection to the API: refused, unresolvable or timed out while connecting."""


class ApiTimeout(ApiError):
    """Connected, but the API did not answer in time (the request may have been processed)."""


class ApiConnectionDropped(ApiError):
    """The connection broke after the request was sent (it may have been processed)."""


class ApiAuthenticationFailed(ApiError):
    """HTTP 401: the API did not accept the credentials."""


class ApiPermissionDenied(ApiError):
    """HTTP 403: the credentials are valid but not allowed to do this."""


class ApiNotFound(ApiError):
    """HTTP 404: no such resource."""


class ApiRequestRejected(ApiError):
    """Any other 4xx (or a redirect, which is not followed): the API refused the request."""


class ApiServerError(ApiError):
    """A 5xx answer."""


class ApiUnexpectedStatus(ApiError):
    """A successful answer, but not with the status the implementation expects."""


# -- results and settings -----------------------------------------------------------------------------


@dataclass
class HttpResult:
    """One answer from the API."""

    method: str
    path: str
    status: int
    headers: dict[str, str]
    json: Any = None
    text: str = ""
    elapsed: float = 0.0
    attempts: int = 1

    @property
    def data(self) -> Any:
        """The JSON body if there was one, else the text."""
        return self.json if self.json is not None else self.text


@dataclass(frozen=True)
class HttpSettings:
    """ProviderConfig.settings, checked."""

    base_url: str
    timeout: float = DEFAULT_TIMEOUT_S
    retries: int = DEFAULT_RETRIES
    retry_backoff: float = DEFAULT_RETRY_BACKOFF_S
    verify_tls: bool | str = True
    headers: dict[str, str] = field(default_factory=dict)
    token_header: str = DEFAULT_TOKEN_HEADER
    token_prefix: str | None = None  # None: "Bearer" for Authorization, nothing for other headers

    @classmethod
    def parse(cls, config: str, settings: Mapping[str, Any]) -> HttpSettings:
        """Validate ``settings``; every problem names the config and the setting."""

        def bad(what: str, hint: str | None = None) -> ApiSettingsError:
            return ApiSettingsError(config, what, hint=hint)

        base_url = settings.get("base_url")
        if not isinstance(base_url, str) or not base_url.strip():
            raise bad("settings.base_url is missing", hint="e.g. base_url: https://controller.example.net/api")
        try:
            url = httpx.URL(base_url.strip())
        except httpx.InvalidURL as exc:
            raise bad(f"settings.base_url is not a URL: {exc}") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise bad("settings.base_url must be an absolute http:// or https:// URL")
        if url.userinfo:
            # Never echo it: the user part may carry a password.
            raise bad(
                "settings.base_url contains a user name or password",
                hint="settings are stored in plain text; put username/password or token in the secrets group",
            )

        def number(key: str, default: float, low: float, high: float) -> float:
            value = settings.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                raise bad(f"settings.{key} must be a number from {low:g} to {high:g}, not {value!r}")
            return float(value)

        timeout = number("timeout", DEFAULT_TIMEOUT_S, 0.001, 3600)
        retries_value = number("retries", DEFAULT_RETRIES, 0, MAX_RETRIES)
        if not retries_value.is_integer():
            raise bad(f"settings.retries must be a whole number, not {retries_value:g}")
        retries = int(retries_value)
        backoff = number("retry_backoff", DEFAULT_RETRY_BACKOFF_S, 0, MAX_BACKOFF_S)
        verify = settings.get("verify_tls", True)
        if not isinstance(verify, bool | str):
            raise bad("settings.verify_tls must be true, false or the path of a CA bundle")
        headers = settings.get("headers") or {}
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise bad("settings.headers must map header names to strings")
        token_header = settings.get("token_header", DEFAULT_TOKEN_HEADER)
        if not isinstance(token_header, str) or not token_header:
            raise bad("settings.token_header must be a header name")
        secret_headers = {"authorization", "proxy-authorization", token_header.lower()}
        for name in headers:
            if name.lower() in secret_headers:
                # The header name alone is enough to refuse; its value is not repeated.
                raise bad(
                    f"settings.headers sets {name}, which carries credentials",
                    hint="settings are stored in plain text; put a token entry in the config's secrets group",
                )
        prefix = settings.get("token_prefix")
        if prefix is not None and not isinstance(prefix, str):
            raise bad("settings.token_prefix must be a string")
        return cls(str(url), timeout, retries, backoff, verify, dict(headers), token_header, prefix)


# -- authentication -----------------------------------------------------------------------------------


class _SecretHeaderAuth(httpx.Auth):
    """Adds one header whose value is built from Secrets at the moment the request is sent."""

    def __init__(self, header: str, value: Secret) -> None:
        self._header = header
        self._value = value

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._header] = self._value.reveal()
        yield request

    def __repr__(self) -> str:
        return f"_SecretHeaderAuth({self._header!r})"


def _auth_for(config: str, settings: HttpSettings, secrets: Mapping[str, Secret]) -> httpx.Auth | None:
    """Header auth from a ``token`` entry, else HTTP basic from ``username`` + ``password``."""
    token = secrets.get("token")
    if token is not None:
        if not token:
            raise ApiSettingsError(config, "the secrets group's token entry is empty")
        prefix = settings.token_prefix
        if prefix is None:
            prefix = "Bearer" if settings.token_header.lower() == "authorization" else ""
        value = f"{prefix} {token.reveal()}" if prefix else token.reveal()
        register([token.reveal(), value])
        return _SecretHeaderAuth(settings.token_header, Secret(value))
    username, password = secrets.get("username"), secrets.get("password")
    if username is None and password is None:
        return None
    if username is None or password is None:
        missing = "password" if password is None else "username"
        raise ApiSettingsError(
            config,
            f"the secrets group has {'username' if password is None else 'password'} but no {missing} entry",
            hint=f"add {missing}=env:VARIABLE to the group, or use a token entry instead",
        )
    basic = base64.b64encode(f"{username.reveal()}:{password.reveal()}".encode()).decode("ascii")
    # The base64 form is as good as the password to whoever reads it: mask it too.
    register([password.reveal(), basic, f"Basic {basic}"])
    return _SecretHeaderAuth("Authorization", Secret(f"Basic {basic}"))


# -- the provider -------------------------------------------------------------------------------------


class HttpApiProvider(NoFileTransfer):
    """An async client for one API, as configured by one ProviderConfig."""

    name = "http_api"

    def __init__(
        self,
        config_name: str,
        settings: Mapping[str, Any],
        secrets: Mapping[str, Secret] | None = None,
        *,
        credentials_group: str | None = None,
    ) -> None:
        self.config_name = config_name
        self.settings = HttpSettings.parse(config_name, settings)
        self.credentials_group = credentials_group
        self._auth = _auth_for(config_name, self.settings, secrets or {})
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def from_config(cls, config: ProviderConfig) -> HttpApiProvider:
        """Build from a ProviderConfig row, resolving its secrets group now (at connect time)."""
        secrets: dict[str, Secret] = {}
        group = config.credentials
        if group is not None:
            try:
                secrets = resolve_group(group)
            except SecretResolutionError as exc:
                what = f"{exc.where}: {exc.what}" if exc.where else exc.what
                raise ApiSettingsError(config.name, what, hint=exc.hint) from None
        return cls(config.name, config.settings, secrets, credentials_group=group.name if group else None)

    def __repr__(self) -> str:
        return f"HttpApiProvider(config={self.config_name!r}, base_url={self.settings.base_url!r})"

    # -- lifecycle

    async def open(self) -> None:
        """Create the connection pool (requests open it on demand too)."""
        if self._client is None:
            s = self.settings
            self._client = httpx.AsyncClient(
                base_url=s.base_url,
                timeout=httpx.Timeout(s.timeout),
                verify=self._tls(),
                headers={"Accept": "application/json", **s.headers},
                auth=self._auth,
                # A redirect could take the credentials to another host: report it instead.
                follow_redirects=False,
                trust_env=False,
            )

    def _tls(self) -> bool | ssl.SSLContext:
        # httpx 0.28 deprecates a CA path string for ``verify``: build the context here.
        verify = self.settings.verify_tls
        if not isinstance(verify, str):
            return verify
        path = Path(verify).expanduser()
        problem: str | None = None
        try:
            if path.is_dir():
                return ssl.create_default_context(capath=str(path))
            return ssl.create_default_context(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            problem = f"settings.verify_tls: cannot load CA certificates from {path}: {exc}"
        raise ApiSettingsError(self.config_name, problem, hint="give a PEM bundle file or a c_rehash'd folder")

    async def close(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def __aenter__(self) -> HttpApiProvider:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- requests

    async def get(self, path: str, *, params: Mapping[str, Any] | None = None) -> HttpResult:
        """GET ``path`` (relative to base_url)."""
        return await self.request("GET", path, params=params)

    async def post(self, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> HttpResult:
        """POST a JSON body to ``path``; never retried once it may have been sent."""
        return await self.request("POST", path, params=params, json=json)

    async def patch(self, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> HttpResult:
        """PATCH ``path`` with a JSON body; never retried once it may have been sent."""
        return await self.request("PATCH", path, params=params, json=json)

    async def delete(self, path: str, *, params: Mapping[str, Any] | None = None) -> HttpResult:
        """DELETE ``path``; never retried once it may have been sent."""
        return await self.request("DELETE", path, params=params)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        expect_status: int | list[int] | tuple[int, ...] | None = None,
    ) -> HttpResult:
        """Send one request and return the answer.

        Any 2xx is success unless ``expect_status`` lists the statuses that are (a listed 4xx
        such as 404 then counts as success too). Everything else raises an :class:`ApiError`.
        """
        method = method.upper()
        if method not in METHODS:
            raise ApiError(
                self.config_name, f"unsupported HTTP method {method!r}", hint=f"use one of {sorted(METHODS)}"
            )
        self._check_path(method, path)
        expected = _expected(expect_status)
        await self.open()
        assert self._client is not None
        client = self._client
        attempts = self.settings.retries + 1
        started = time.perf_counter()
        for attempt in range(1, attempts + 1):
            failure: ApiError | None = None
            retry = False
            response: httpx.Response | None = None
            try:
                response = await client.request(method, path, params=_params(params), json=json)
            except _NOT_SENT as exc:
                retry = True
                failure = self._transport_failure(method, path, exc)
            except httpx.TransportError as exc:
                failure = self._transport_failure(method, path, exc)
            if response is not None:
                if (
                    response.status_code in RETRY_STATUSES
                    and method in IDEMPOTENT
                    and (expected is None or response.status_code not in expected)
                ):
                    retry = True
                    failure = self._status_failure(method, path, response)
                else:
                    return self._result(method, path, response, expected, time.perf_counter() - started, attempt)
            assert failure is not None
            if not retry or attempt == attempts:
                if attempt > 1:
                    failure._after_attempts(attempt)
                raise failure
            delay = min(self.settings.retry_backoff * 2 ** (attempt - 1), MAX_BACKOFF_S)
            log.info(
                "%s %s on provider config %s: %s; retrying in %.2fs (attempt %d of %d)",
                method,
                path,
                self.config_name,
                failure.what,
                delay,
                attempt + 1,
                attempts,
            )
            await asyncio.sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    async def api_call(self, action_config: Mapping[str, Any], context: Mapping[str, Any]) -> HttpResult:
        """Run an ``api_call`` implementation's ``action_config`` (method, path, params, body,
        expect_status) with its string values rendered as sandboxed Jinja2 against ``context``.

        A string that is a single ``{{ expression }}`` keeps the expression's type (a VLAN id
        stays an int in a JSON body); any other string with template syntax is rendered as text.
        """
        where = f"provider config {self.config_name}, api_call"
        method = str(_render(action_config.get("method", "GET"), context, f"{where} method"))
        path = action_config.get("path")
        if not isinstance(path, str) or not path:
            raise ApiSettingsError(self.config_name, "action_config.path is missing", hint="e.g. path: /api/vlans/")
        path = str(_render(path, context, f"{where} path"))
        params = _render(action_config.get("params"), context, f"{where} params")
        if params is not None and not isinstance(params, dict):
            raise ApiSettingsError(self.config_name, "action_config.params must be a mapping")
        body = _render(action_config.get("body"), context, f"{where} body")
        expect = action_config.get("expect_status")
        if expect is not None and not (
            (isinstance(expect, int) and not isinstance(expect, bool))
            or (isinstance(expect, list) and all(isinstance(s, int) for s in expect))
        ):
            raise ApiSettingsError(self.config_name, "action_config.expect_status must be a status or a list of them")
        return await self.request(method, path, params=params, json=body, expect_status=expect)

    # -- helpers

    def _check_path(self, method: str, path: str) -> None:
        # An absolute URL would send the credentials to whatever host it names (a rendered
        # template can produce one): only paths under base_url are allowed.
        try:
            url = httpx.URL(path)
        except httpx.InvalidURL:
            url = None
        if url is None or not url.is_relative_url or path.startswith("//") or "\\" in path:
            raise ApiError(
                self.config_name,
                f"the path {path[:200]!r} is not a relative path under base_url",
                method=method,
                path=path[:200],
                hint="give a path such as /api/vlans/; the host comes from settings.base_url",
            )

    def _credentials_hint(self) -> str:
        if self.credentials_group:
            return f"check the secrets group '{self.credentials_group}': nettui secrets check {self.credentials_group}"
        return "the provider config has no secrets group: give it one with a token (or username and password)"

    def _transport_failure(self, method: str, path: str, exc: httpx.TransportError) -> ApiError:
        url = self.settings.base_url
        detail = first_line(str(exc)) or type(exc).__name__
        if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
            return ApiUnreachable(
                self.config_name,
                f"timed out connecting to {url} after {self.settings.timeout:g}s",
                method=method,
                path=path,
                hint="check base_url and that the API is reachable from here",
            )
        if isinstance(exc, httpx.ConnectError):
            return ApiUnreachable(
                self.config_name,
                f"cannot connect to {url}: {detail}",
                method=method,
                path=path,
                hint="check base_url and that the API is reachable from here",
            )
        if isinstance(exc, httpx.TimeoutException):
            return ApiTimeout(
                self.config_name,
                f"no answer within {self.settings.timeout:g}s",
                method=method,
                path=path,
                hint="the request may still have been processed; raise settings.timeout if the API is slow",
            )
        return ApiConnectionDropped(
            self.config_name,
            f"the connection failed after the request was sent: {detail}",
            method=method,
            path=path,
            hint="the request may have been processed; it is not sent again automatically",
        )

    def _status_failure(self, method: str, path: str, response: httpx.Response) -> ApiError:
        status = response.status_code
        reason = f"HTTP {status} {response.reason_phrase}".rstrip()
        body = excerpt(response.text)
        said = f": {body}" if body else ""
        kwargs: dict[str, Any] = {"method": method, "path": path, "status": status}
        if status == 401:
            return ApiAuthenticationFailed(
                self.config_name,
                f"{reason}: the API did not accept the credentials",
                hint=self._credentials_hint(),
                **kwargs,
            )
        if status == 403:
            return ApiPermissionDenied(
                self.config_name,
                f"{reason}: the credentials are not allowed to do this",
                hint=self._credentials_hint() + "; or grant the account this permission on the API side",
                **kwargs,
            )
        if status == 404:
            return ApiNotFound(self.config_name, f"{reason}: no such resource{said}", **kwargs)
        if 300 <= status < 400:
            target = response.headers.get("location", "?")
            return ApiRequestRejected(
                self.config_name,
                f"{reason}: redirected to {target}, which is not followed",
                hint="set settings.base_url to the final location",
                **kwargs,
            )
        if status >= 500:
            return ApiServerError(self.config_name, f"{reason}{said}", **kwargs)
        return ApiRequestRejected(self.config_name, f"{reason}{said}", **kwargs)

    def _result(
        self,
        method: str,
        path: str,
        response: httpx.Response,
        expected: frozenset[int] | None,
        elapsed: float,
        attempts: int,
    ) -> HttpResult:
        status = response.status_code
        if expected is not None and status in expected:
            pass
        elif not 200 <= status < 300:
            raise self._status_failure(method, path, response)
        elif expected is not None:
            raise ApiUnexpectedStatus(
                self.config_name,
                f"HTTP {status}, but the implementation expects {', '.join(map(str, sorted(expected)))}",
                method=method,
                path=path,
                status=status,
            )
        text = response.text
        data: Any = None
        if text and "json" in response.headers.get("content-type", ""):
            try:
                data = response.json()
            except ValueError:
                data = None
        log.debug("%s %s on provider config %s: HTTP %d in %.3fs", method, path, self.config_name, status, elapsed)
        return HttpResult(method, path, status, dict(response.headers.items()), data, text, elapsed, attempts)


def _expected(expect: int | list[int] | tuple[int, ...] | None) -> frozenset[int] | None:
    if expect is None:
        return None
    return frozenset([expect] if isinstance(expect, int) else expect)


def _params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    # httpx takes str/int/float/bool/None and lists of them; anything else is stringified.
    if params is None:
        return None
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, list | tuple):
            out[str(key)] = [v if isinstance(v, str | int | float) else str(v) for v in value]
        elif isinstance(value, bool):
            out[str(key)] = "true" if value else "false"
        elif value is None or isinstance(value, str | int | float):
            out[str(key)] = value
        else:
            out[str(key)] = str(value)
    return out


def _render(value: Any, context: Mapping[str, Any], where: str) -> Any:
    """Render templates in strings, however deep in dicts and lists they sit."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{{") and text.endswith("}}") and text.count("{{") == 1 and "{%" not in text:
            return evaluate(text, context, where=where)
        if "{{" in value or "{%" in value:
            return render_template(value, context, where=where)
        return value
    if isinstance(value, dict):
        return {key: _render(item, context, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [_render(item, context, f"{where}[{i}]") for i, item in enumerate(value)]
    return value
