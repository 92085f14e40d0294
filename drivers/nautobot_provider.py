"""The Nautobot provider: REST and GraphQL through pynautobot.

A :class:`NautobotProvider` is built from a ProviderConfig (``settings``: ``url``, ``timeout``,
``verify_tls``, ``threading``, ``api_version``; the config's secrets group holds ``token``) or
directly from a URL and a token :class:`~catalog.secrets.Secret`.

pynautobot is blocking (requests underneath), so every call runs in a worker thread and the
methods here are coroutines. Objects come back as plain ``dict``s (JSON-able, so they can sit in an
execution's context); :meth:`NautobotProvider.update` returns the object before and after the change
and the body that puts it back, for "update Nautobot first, then push" workflows that must be able
to undo the first step.

The token is handed to pynautobot, which keeps it in its own objects; from nettui's side it lives
only in a Secret, is registered with :mod:`drivers.redaction` (so a log line that carries it is
masked) and is never part of a message or a repr. Errors are raised outside the ``except`` that
caught the library's exception, so no ``__context__`` keeps requests' request, and its
``Authorization`` header, alive in a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar
from urllib.parse import urlsplit

import pynautobot  # type: ignore[import-untyped]
import requests
from pynautobot.core.graphql import GraphQLException  # type: ignore[import-untyped]
from pynautobot.core.query import (  # type: ignore[import-untyped]
    ContentError,
    Request,
    RequestError,
    RequestErrorFromException,
)

from catalog.errors import NettuiError
from catalog.rendering import evaluate, render_template
from catalog.secrets import Secret, SecretResolutionError, resolve_group
from drivers.redaction import excerpt, redact, register
from drivers.transfer import NoFileTransfer

if TYPE_CHECKING:
    from catalog.models import ProviderConfig

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 30.0
GRAPHQL_PATH = "/api/graphql/"
# Apps pynautobot knows; anything else is reached through ``plugins`` as "plugins/<name>".
APPS = frozenset(
    {
        "circuits",
        "cloud",
        "core",
        "data-validation",
        "dcim",
        "extras",
        "ipam",
        "load-balancers",
        "tenancy",
        "users",
        "virtualization",
        "vpn",
        "wireless",
    }
)
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,99}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")  # a UUID, or a natural-key slug; never a path
_ERRNO = re.compile(r"\[Errno -?\d+\][^'\")]*")

T = TypeVar("T")


# -- errors ------------------------------------------------------------------------------------------


class NautobotError(NettuiError):
    """A failure talking to Nautobot, naming the server, the request path and, for GraphQL, the query."""

    def __init__(
        self,
        server: str,
        what: str,
        *,
        method: str | None = None,
        path: str | None = None,
        query: str | None = None,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.server = server
        self.method = method
        self.path = path
        self.query = query
        self.status = status
        where = server
        if path:
            where += f", {method or 'GET'} {path}"
        if query:
            where += f", query {query}"
        super().__init__(redact(what), where=redact(where), hint=hint)


class NautobotSettingsError(NautobotError):
    """The provider config's settings or secrets group are missing or invalid."""


class NautobotUnreachable(NautobotError):
    """No connection to Nautobot: refused, unresolvable or timed out while connecting."""


class NautobotTimeout(NautobotError):
    """Connected, but Nautobot did not answer in time (a write may still have been applied)."""


class NautobotAuthenticationError(NautobotError):
    """HTTP 401/403: the token was refused, or is not allowed to do this."""


class NautobotNotFound(NautobotError):
    """HTTP 404, or no object matched the filters of a single-object lookup."""


class NautobotValidationError(NautobotError):
    """HTTP 400 on a write: Nautobot refused the data; ``fields`` maps each field to its messages."""

    def __init__(self, server: str, what: str, *, fields: Mapping[str, list[str]] | None = None, **kwargs: Any) -> None:
        self.fields = dict(fields or {})
        super().__init__(server, what, **kwargs)


class NautobotGraphQLError(NautobotError):
    """The GraphQL answer carried ``errors``; ``messages`` holds Nautobot's messages."""

    def __init__(self, server: str, what: str, *, messages: list[str] | None = None, **kwargs: Any) -> None:
        self.messages = list(messages or [])
        super().__init__(server, what, **kwargs)


class NautobotServerError(NautobotError):
    """HTTP 5xx, or an answer that is not Nautobot's JSON."""


class NautobotRequestError(NautobotError):
    """Any other refusal (another 4xx, or several objects where one was expected)."""


# -- results -------------------------------------------------------------------------------------------


class NautobotUpdate(TypedDict):
    """What :meth:`NautobotProvider.update` did: enough to show the change and to undo it."""

    id: str
    path: str
    before: dict[str, Any]
    after: dict[str, Any]
    revert: dict[str, Any]  # PATCH this body to put the changed fields back as they were


# -- the provider -------------------------------------------------------------------------------------


class _TimeoutSession(requests.Session):
    """A requests session with a default timeout: pynautobot never passes one, so none would apply."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    # Loosely typed on purpose: every argument is passed through untouched, timeout aside.
    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().request(method, url, *args, **kwargs)


class NautobotProvider(NoFileTransfer):
    """An async client for one Nautobot server (REST and GraphQL), through pynautobot."""

    name = "nautobot"

    def __init__(
        self,
        url: str,
        token: Secret,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        verify_tls: bool | str = True,
        threading: bool = False,
        api_version: str | None = None,
        config_name: str | None = None,
        credentials_group: str | None = None,
    ) -> None:
        self.config_name = config_name
        self.credentials_group = credentials_group
        self.url = _base_url(url, config_name)
        self.timeout = float(timeout)
        self.verify_tls = verify_tls
        self.threading = threading
        self.api_version = api_version
        if not isinstance(token, Secret) or not token:
            raise NautobotSettingsError(self._server(), "no API token", hint=self._credentials_hint())
        self._token = token
        # pynautobot sends "Token <key>": mask both forms in every log record from now on.
        register([token.reveal(), f"Token {token.reveal()}"])
        self._nb: Any = None

    @classmethod
    def from_settings(
        cls,
        config_name: str,
        settings: Mapping[str, Any],
        secrets: Mapping[str, Secret],
        *,
        credentials_group: str | None = None,
    ) -> NautobotProvider:
        """Build from a ProviderConfig's ``settings`` and its resolved secrets; problems name the setting."""
        where = f"Nautobot provider config {config_name}"

        def bad(what: str, hint: str | None = None) -> NautobotSettingsError:
            return NautobotSettingsError(where, what, hint=hint)

        url = settings.get("url")
        if not isinstance(url, str) or not url.strip():
            raise bad("settings.url is missing", hint="e.g. url: https://nautobot.example.net")
        timeout = settings.get("timeout", DEFAULT_TIMEOUT_S)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 3600:
            raise bad(f"settings.timeout must be a number of seconds from 0 to 3600, not {timeout!r}")
        verify = settings.get("verify_tls", True)
        if not isinstance(verify, bool | str):
            raise bad("settings.verify_tls must be true, false or the path of a CA bundle")
        threading = settings.get("threading", False)
        if not isinstance(threading, bool):
            raise bad("settings.threading must be true or false")
        api_version = settings.get("api_version")
        if api_version is not None and not isinstance(api_version, str):
            raise bad("settings.api_version must be a string such as '3.2'")
        token = secrets.get("token")
        if token is None:
            hint = (
                f"add token=env:VARIABLE (or file:/keyring:) to the secrets group '{credentials_group}'"
                if credentials_group
                else "give the provider config a secrets group with a token entry"
            )
            raise bad("the secrets group has no token entry", hint=hint)
        return cls(
            url,
            token,
            timeout=float(timeout),
            verify_tls=verify,
            threading=threading,
            api_version=api_version,
            config_name=config_name,
            credentials_group=credentials_group,
        )

    @classmethod
    def from_config(cls, config: ProviderConfig) -> NautobotProvider:
        """Build from a ProviderConfig row, resolving its secrets group now (at connect time)."""
        secrets: dict[str, Secret] = {}
        group = config.credentials
        if group is not None:
            failure: NautobotSettingsError | None = None
            try:
                secrets = resolve_group(group)
            except SecretResolutionError as exc:
                what = f"{exc.where}: {exc.what}" if exc.where else exc.what
                failure = NautobotSettingsError(f"Nautobot provider config {config.name}", what, hint=exc.hint)
            if failure is not None:
                raise failure
        return cls.from_settings(
            config.name, config.settings, secrets, credentials_group=group.name if group is not None else None
        )

    def __repr__(self) -> str:
        return f"NautobotProvider(url={self.url!r}, config={self.config_name!r})"

    # -- lifecycle

    def _api(self) -> Any:
        """The pynautobot client, created on first use (creating it sends nothing)."""
        if self._nb is None:
            nb = pynautobot.api(
                self.url,
                token=self._token.reveal(),
                threading=self.threading,
                api_version=self.api_version,
                verify=self.verify_tls,
            )
            session = _TimeoutSession(self.timeout)
            session.verify = self.verify_tls
            session.headers.update(nb.http_session.headers)
            # No proxies or .netrc from the environment: the token goes to settings.url only.
            session.trust_env = False
            nb.http_session = session
            self._nb = nb
        return self._nb

    async def open(self) -> None:
        """Create the client (requests open connections on demand)."""
        self._api()

    async def close(self) -> None:
        """Close the connection pool."""
        if self._nb is not None:
            nb, self._nb = self._nb, None
            await asyncio.to_thread(nb.http_session.close)

    async def __aenter__(self) -> NautobotProvider:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- REST

    async def status(self) -> dict[str, Any]:
        """``/api/status/``: versions and workers; a cheap check that the URL and token work."""
        result = await self._call("GET", "/api/status/", lambda: self._api().status())
        return dict(result)

    async def get(self, app: str, endpoint: str, /, **filters: Any) -> list[dict[str, Any]]:
        """Every object of ``app/endpoint`` matching ``filters`` (all pages), as dicts."""
        ep, path = self._endpoint(app, endpoint)
        records = await self._call(
            "GET", path, lambda: ep.filter(**filters) if filters else ep.all(), detail=_describe(filters)
        )
        return [dict(r) for r in records]

    async def get_one(self, app: str, endpoint: str, /, id: str | None = None, **filters: Any) -> dict[str, Any]:
        """One object, by ``id`` or by filters; :class:`NautobotNotFound` if none, an error if several."""
        ep, path = self._endpoint(app, endpoint)
        if id is not None:
            item_path = self._item_path(path, id)
            data = await self._call("GET", item_path, lambda: self._request(ep, id).get())
            return dict(data)
        if not filters:
            raise NautobotRequestError(self._server(), "get_one needs an id or filters", method="GET", path=path)
        matches = await self.get(app, endpoint, **filters)
        if not matches:
            raise NautobotNotFound(
                self._server(), f"no object matches {_describe(filters)}", method="GET", path=path, status=None
            )
        if len(matches) > 1:
            raise NautobotRequestError(
                self._server(),
                f"{len(matches)} objects match {_describe(filters)}, one was expected",
                method="GET",
                path=path,
                hint="add filters that identify one object (name, id, or a parent such as device)",
            )
        return matches[0]

    async def create(self, app: str, endpoint: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Create one object; returns it as Nautobot stored it."""
        ep, path = self._endpoint(app, endpoint)
        body = dict(data)
        record = await self._call("POST", path, lambda: ep.create(body))
        log.info("created %s %s on %s", path, _label(dict(record)), self.url)
        return dict(record)

    async def update(self, app: str, endpoint: str, id: str, data: Mapping[str, Any]) -> NautobotUpdate:
        """PATCH ``data`` onto object ``id``; returns the object before and after, and the revert body.

        ``revert`` holds, for each field in ``data``, its value before the change in the form
        Nautobot accepts on write (related objects by id), so ``update(..., result["revert"])``
        undoes this change. Nothing is re-read between the two calls: a concurrent edit of the same
        fields by someone else would be overwritten by the revert, as it would by any PATCH.
        """
        ep, path = self._endpoint(app, endpoint)
        item_path = self._item_path(path, id)
        body = dict(data)
        before = dict(await self._call("GET", item_path, lambda: self._request(ep, id).get()))
        after = dict(await self._call("PATCH", item_path, lambda: self._request(ep, id).patch(body)))
        revert = {key: _writable(before.get(key)) for key in body}
        log.info("updated %s fields %s on %s", item_path, ", ".join(sorted(body)), self.url)
        return NautobotUpdate(id=str(id), path=item_path, before=before, after=after, revert=revert)

    async def delete(self, app: str, endpoint: str, id: str) -> None:
        """Delete object ``id``."""
        ep, path = self._endpoint(app, endpoint)
        item_path = self._item_path(path, id)
        await self._call("DELETE", item_path, lambda: self._request(ep, id).delete())
        log.info("deleted %s on %s", item_path, self.url)

    # -- GraphQL

    async def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run a GraphQL query; returns its ``data``. Errors in the answer raise :class:`NautobotGraphQLError`."""
        if not isinstance(query, str) or not query.strip():
            raise NautobotSettingsError(self._server(), "the GraphQL query is empty", path=GRAPHQL_PATH)
        label = _query_label(query)
        payload = dict(variables) if variables is not None else None
        record = await self._call(
            "POST", GRAPHQL_PATH, lambda: self._api().graphql.query(query=query, variables=payload), query=label
        )
        body = record.json if isinstance(record.json, dict) else {}
        messages = _graphql_messages(body.get("errors"))
        if messages:
            raise NautobotGraphQLError(
                self._server(),
                "GraphQL errors: " + "; ".join(messages),
                messages=messages,
                method="POST",
                path=GRAPHQL_PATH,
                query=label,
                status=record.status_code,
            )
        data = body.get("data")
        if not isinstance(data, dict):
            raise NautobotServerError(
                self._server(), "the GraphQL answer has no data", method="POST", path=GRAPHQL_PATH, query=label
            )
        return data

    async def graphql_query(self, action_config: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
        """Run a ``graphql_query`` implementation: ``action_config`` = {``query``, ``variables``}.

        Each variable is a value or a template rendered in the sandbox against ``context``; a
        string that is a single ``{{ expression }}`` keeps the expression's type (an int stays an
        int, a list a list), which GraphQL's typed variables need. Returns the query's ``data``.
        """
        where = f"{self._server()}, graphql_query"
        query = action_config.get("query")
        if not isinstance(query, str) or not query.strip():
            raise NautobotSettingsError(
                where,
                "action_config.query is missing",
                hint="e.g. query: 'query ($name: [String]) { devices(name: $name) { id } }'",
            )
        raw = action_config.get("variables") or {}
        if not isinstance(raw, Mapping):
            raise NautobotSettingsError(where, "action_config.variables must map variable names to values")
        variables = {str(name): _render(value, context, f"{where} variable {name}") for name, value in raw.items()}
        return await self.graphql(query, variables)

    # -- helpers

    def _server(self) -> str:
        if self.config_name:
            return f"Nautobot {self.url} (provider config {self.config_name})"
        return f"Nautobot {self.url}"

    def _credentials_hint(self) -> str:
        if self.credentials_group:
            return (
                f"check the token in the secrets group '{self.credentials_group}' "
                f"(nettui secrets check {self.credentials_group}) and that it is valid and not expired in Nautobot"
            )
        return "check the API token (Nautobot: user menu > API Tokens) and that it is not expired"

    def _endpoint(self, app: str, endpoint: str) -> tuple[Any, str]:
        """pynautobot's endpoint object and its URL path; names are checked, never used as code."""
        app_name, _, plugin = app.partition("/")
        for part in (app_name, endpoint, *([plugin] if plugin else [])):
            if not _NAME.fullmatch(part):
                raise NautobotRequestError(
                    self._server(),
                    f"{app}/{endpoint} is not an API endpoint name",
                    hint="e.g. app dcim, endpoint devices",
                )
        nb = self._api()
        if app_name == "plugins" and plugin:
            app_obj = getattr(nb.plugins, plugin.replace("-", "_"))
            path = f"/api/plugins/{plugin.replace('_', '-')}/"
        elif app_name in APPS or app_name.replace("_", "-") in APPS:
            app_obj = getattr(nb, app_name.replace("-", "_"))
            path = f"/api/{app_name.replace('_', '-')}/"
        else:
            raise NautobotRequestError(
                self._server(),
                f"unknown Nautobot app {app!r}",
                hint="one of " + ", ".join(sorted(APPS)) + ", or plugins/<name>",
            )
        ep = getattr(app_obj, endpoint.replace("-", "_"))
        return ep, f"{path}{endpoint.replace('_', '-')}/"

    def _item_path(self, path: str, id: str) -> str:
        # The id becomes part of the URL: a rendered "../users/tokens" must not walk elsewhere.
        if not isinstance(id, str) or not _ID.fullmatch(id) or ".." in id:
            raise NautobotRequestError(self._server(), f"{str(id)[:100]!r} is not an object id", path=path)
        return f"{path}{id}/"

    def _request(self, ep: Any, id: str) -> Any:
        """pynautobot's Request for one object, so PATCH/GET/DELETE answers keep their JSON."""
        nb = self._api()
        return Request(
            key=str(id), base=ep.url, token=nb.token, http_session=nb.http_session, api_version=nb.api_version
        )

    async def _call(
        self, method: str, path: str, fn: Callable[[], T], *, detail: str | None = None, query: str | None = None
    ) -> T:
        """Run a blocking pynautobot call in a thread; translate its failures into NautobotErrors."""
        started = time.monotonic()
        failure: NautobotError | None = None
        try:
            result = await asyncio.to_thread(fn)
        except Exception as exc:  # every library failure is translated, none is passed through
            failure = self._translate(exc, method, path, query)
        if failure is not None:
            # Raised here, outside the except: the library's exception (and the request with the
            # Authorization header it references) is not kept as __context__.
            log.debug("%s %s on %s failed: %s", method, path, self.url, failure.what)
            raise failure
        log.debug(
            "%s %s%s on %s in %.3fs",
            method,
            path,
            f" ({detail})" if detail else "",
            self.url,
            time.monotonic() - started,
        )
        return result

    def _translate(self, exc: Exception, method: str, path: str, query: str | None) -> NautobotError:
        server = self._server()
        kwargs: dict[str, Any] = {"method": method, "path": path, "query": query}
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return NautobotUnreachable(
                server,
                f"timed out connecting after {self.timeout:g}s",
                hint="check settings.url and the network",
                **kwargs,
            )
        if isinstance(exc, requests.exceptions.ConnectionError | RequestErrorFromException):
            reason = _connection_reason(exc)
            return NautobotUnreachable(
                server,
                f"cannot connect to {self.url}: {reason}",
                hint="check settings.url and that Nautobot is running and reachable from here",
                **kwargs,
            )
        if isinstance(exc, requests.exceptions.Timeout):
            return NautobotTimeout(
                server,
                f"no answer within {self.timeout:g}s",
                hint="a write may still have been applied; raise settings.timeout if Nautobot is slow",
                **kwargs,
            )
        if isinstance(exc, GraphQLException):
            messages = _graphql_messages(exc.errors)
            return NautobotGraphQLError(
                server,
                "GraphQL errors: " + ("; ".join(messages) or "(no message)"),
                messages=messages,
                status=exc.status_code,
                **kwargs,
            )
        if isinstance(exc, RequestError):
            return self._status_failure(exc.req, kwargs)
        if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
            return self._status_failure(exc.response, kwargs)
        if isinstance(exc, ContentError):
            return NautobotServerError(
                server,
                "the answer is not JSON: is settings.url a Nautobot server?",
                hint="settings.url is the server's address, without /api",
                **kwargs,
            )
        if isinstance(exc, requests.exceptions.RequestException):
            return NautobotServerError(server, f"request failed: {excerpt(str(exc))}", **kwargs)
        if isinstance(exc, ValueError | TypeError):  # pynautobot's own argument checks
            return NautobotRequestError(server, excerpt(str(exc)), **kwargs)
        return NautobotError(server, f"{type(exc).__name__}: {excerpt(str(exc))}", **kwargs)

    def _status_failure(self, response: Any, kwargs: dict[str, Any]) -> NautobotError:
        server = self._server()
        status = int(response.status_code)
        url = getattr(response, "url", None)
        if isinstance(url, str) and url:
            parts = urlsplit(url)
            kwargs = {**kwargs, "path": parts.path + (f"?{parts.query}" if parts.query else "")}
        kwargs["status"] = status
        reason = f"HTTP {status} {getattr(response, 'reason', '') or ''}".rstrip()
        body = _json(response)
        if status in (401, 403):
            detail = body.get("detail") if isinstance(body, dict) else None
            said = f": {detail}" if isinstance(detail, str) else ""
            what = "the token was refused" if status == 401 or "token" in said.lower() else "not allowed"
            return NautobotAuthenticationError(
                server, f"{reason}{said} ({what})", hint=self._credentials_hint(), **kwargs
            )
        if status == 404:
            return NautobotNotFound(server, f"{reason}: no such object or endpoint", **kwargs)
        if status == 400:
            fields = _field_messages(body)
            if fields:
                text = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in fields.items())
                return NautobotValidationError(
                    server, f"{reason}: Nautobot refused the data: {text}", fields=fields, **kwargs
                )
            return NautobotValidationError(server, f"{reason}: {excerpt(_text(response))}", **kwargs)
        if status >= 500:
            return NautobotServerError(server, f"{reason}: {excerpt(_text(response))}", **kwargs)
        return NautobotRequestError(server, f"{reason}: {excerpt(_text(response))}", **kwargs)


# -- module helpers ----------------------------------------------------------------------------------


def _base_url(url: str, config_name: str | None) -> str:
    """The server's address: absolute http(s), no credentials, without a trailing /api."""
    where = f"Nautobot provider config {config_name}" if config_name else "Nautobot provider"
    text = url.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NautobotSettingsError(
            where, f"settings.url must be an absolute http:// or https:// URL, not {url[:200]!r}"
        )
    if parts.username or parts.password:
        # Never echo it: the user part may carry a password.
        raise NautobotSettingsError(
            where, "settings.url contains a user name or password", hint="put the token in the secrets group"
        )
    # pynautobot appends /api itself; a URL copied from the browser often ends with it already.
    return text[: -len("/api")] if text.endswith("/api") else text


def _writable(value: Any) -> Any:
    """A value as read back from Nautobot, in the form a write accepts (related objects by id)."""
    if isinstance(value, dict) and "id" in value and ("url" in value or "object_type" in value):
        return value["id"]
    if isinstance(value, dict) and set(value) >= {"value", "label"} and len(value) <= 3:
        return value["value"]  # a choice field ("mode": {"value": "access", "label": "Access"})
    if isinstance(value, list):
        return [_writable(item) for item in value]
    return value


def _render(value: Any, context: Mapping[str, Any], where: str) -> Any:
    """Render templates in strings, however deep in dicts and lists they sit."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{{") and text.endswith("}}") and text.count("{{") == 1 and "{%" not in text:
            return evaluate(text, context, where=where)
        if "{{" in value or "{%" in value:
            return render_template(value, context, where=where)
        return value
    if isinstance(value, Mapping):
        return {str(key): _render(item, context, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [_render(item, context, f"{where}[{i}]") for i, item in enumerate(value)]
    return value


def _graphql_messages(errors: Any) -> list[str]:
    """Nautobot's GraphQL error messages, with their locations when given."""
    if not isinstance(errors, list):
        return []
    messages = []
    for error in errors:
        if isinstance(error, dict):
            message = str(error.get("message", error))
            locations = error.get("locations")
            if isinstance(locations, list) and locations and isinstance(locations[0], dict):
                loc = locations[0]
                message += f" (line {loc.get('line')}, column {loc.get('column')})"
            messages.append(redact(message))
        else:
            messages.append(redact(str(error)))
    return messages


def _field_messages(body: Any) -> dict[str, list[str]]:
    """``{"name": ["This field is required."]}`` and its nested forms, flattened to dotted names."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[prefix or "non_field_errors"] = [redact(v) for v in value]
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(f"{prefix}[{i}]", item)
        elif isinstance(value, str):
            out[prefix or "detail"] = [redact(value)]

    if isinstance(body, dict | list):
        walk("", body)
    return out


def _json(response: Any) -> Any:
    try:
        return response.json()
    except (ValueError, AttributeError):
        return None


def _text(response: Any) -> str:
    try:
        return str(response.text)
    except (AttributeError, UnicodeDecodeError):
        return ""


def _connection_reason(exc: Exception) -> str:
    # requests' message is a long repr chain; the errno part says what happened.
    found = _ERRNO.search(str(exc))
    return found.group(0).strip() if found else excerpt(str(exc))


def _query_label(query: str) -> str:
    """A short name for a query in messages: its operation name, else its first line."""
    match = re.search(r"\b(query|mutation)\s+([A-Za-z_]\w*)", query)
    if match:
        return match.group(2)
    first = " ".join(query.split())
    return repr(first if len(first) <= 60 else first[:60] + "...")


def _describe(filters: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in filters.items()) if filters else "(no filters)"


def _label(obj: Mapping[str, Any]) -> str:
    return str(obj.get("display") or obj.get("name") or obj.get("id") or "?")


__all__ = [
    "NautobotAuthenticationError",
    "NautobotError",
    "NautobotGraphQLError",
    "NautobotNotFound",
    "NautobotProvider",
    "NautobotRequestError",
    "NautobotServerError",
    "NautobotSettingsError",
    "NautobotTimeout",
    "NautobotUnreachable",
    "NautobotUpdate",
    "NautobotValidationError",
]
