"""Secrets: where they live (references in the store) and how to fetch them (never into the store).

A :class:`~catalog.models.SecretsGroup` holds named entries such as ``username``, ``password``
or ``enable_secret``; each entry is a reference to one of three backends:

``env:VARIABLE``
    an environment variable of the process that needs the secret (the engine, the bastion).
``file:/path/to/file``
    a file, absolute or ``~``-relative; one trailing newline is dropped.
``keyring:SERVICE/USERNAME``
    an item of the system keyring (the ``keyring`` package); the service cannot contain ``/``,
    the username can.

Fetched values come back as :class:`Secret`, which never shows its value in ``repr``, ``str``,
formatting, logs or tracebacks; call :meth:`Secret.reveal` at the very last moment.
"""

from __future__ import annotations

import difflib
import hmac
import logging
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, Protocol, final

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.errors import NettuiError, NotFoundError
from catalog.models import Device, SecretsGroup, SecretsGroupEntry
from catalog.models.choices import SecretBackend

log = logging.getLogger(__name__)

REFERENCE_SYNTAX = "env:VARIABLE, file:/path/to/file or keyring:SERVICE/USERNAME"
MASK = "********"
# A secret file is a password or a token, not a disk image: a larger file is the wrong file.
MAX_FILE_SECRET_BYTES = 64 * 1024

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENTRY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,99}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_KEYRING_HEADLESS_HINT = (
    "on a headless server use env: or file: references instead (e.g. env:LAB_PASSWORD or "
    "file:~/.config/nettui/lab-password), or configure a keyring backend, e.g. "
    "`pip install keyrings.alt` and set PYTHON_KEYRING_BACKEND=keyrings.alt.file.EncryptedKeyring"
)


# -- the value type -------------------------------------------------------------------------------


@final
class Secret:
    """A secret value that does not show itself.

    ``repr``, ``str``, ``format`` and ``%`` all give ``********``, so a secret that ends up in a
    log line, an exception message or a traceback's locals is masked. Pickling is refused (a
    pickle is plain text on disk or on the wire). Equality compares in constant time.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a Secret holds a str, not {type(value).__name__}")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """The value itself: call this only where it is handed to a device or a library."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return format(MASK, format_spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("a Secret cannot be changed")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("a Secret cannot be changed")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("a Secret cannot be pickled: it would be written out as plain text")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self


# -- references ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretReference:
    """A parsed reference: the backend and what follows its prefix (what the store keeps)."""

    backend: SecretBackend
    reference: str

    def __str__(self) -> str:
        return f"{self.backend.value}:{self.reference}"

    @property
    def keyring_item(self) -> tuple[str, str]:
        """(service, username) of a keyring reference."""
        service, _, username = self.reference.partition("/")
        return service, username


def format_reference(backend: SecretBackend, reference: str) -> str:
    """The reference as a user types it, e.g. ``env:LAB_PASSWORD``."""
    return f"{backend.value}:{reference}"


def parse_reference(text: str, *, where: str | None = None) -> SecretReference:
    """Parse ``env:VAR``, ``file:PATH`` or ``keyring:SERVICE/USERNAME``.

    A value without a known ``backend:`` prefix is refused *without being echoed*: it may be
    the secret itself, typed where its reference belongs.
    """
    prefix, sep, body = text.partition(":")
    backends = {b.value: b for b in SecretBackend}
    if not sep or prefix not in backends:
        # Never repeat the value: it may be a literal password.
        raise NettuiError(
            "this is not a secret reference (it does not start with env:, file: or keyring:); "
            "nettui stores where a secret is, never the secret itself",
            where=where,
            hint=f"write {REFERENCE_SYNTAX}, e.g. password=env:LAB_PASSWORD; to put a value in "
            "the keyring run `nettui secrets store-keyring SERVICE/USERNAME` (it prompts)",
        )
    backend = backends[prefix]
    if _CONTROL.search(body):
        raise NettuiError(f"{prefix}: reference contains control characters", where=where, hint=REFERENCE_SYNTAX)
    if body != body.strip():
        raise NettuiError(
            f"{prefix}: reference {body!r} has leading or trailing spaces", where=where, hint=REFERENCE_SYNTAX
        )
    if backend is SecretBackend.ENV:
        if not _ENV_NAME.fullmatch(body):
            raise NettuiError(
                f"{body!r} is not a valid environment variable name",
                where=where,
                hint="use letters, digits and underscores, not starting with a digit, e.g. env:LAB_PASSWORD",
            )
    elif backend is SecretBackend.FILE:
        if not body:
            raise NettuiError("file: reference has no path", where=where, hint="e.g. file:/etc/nettui/lab-password")
        if not (body.startswith("/") or body == "~" or body.startswith("~")):
            # The engine and the bastion do not run in the directory the CLI was run from.
            raise NettuiError(
                f"file path {body!r} is relative",
                where=where,
                hint=f"use an absolute path or one starting with ~, e.g. file:{Path(body).absolute()}",
            )
    else:
        service, slash, username = body.partition("/")
        if not slash or not service or not username:
            raise NettuiError(
                f"keyring reference {body!r} is not SERVICE/USERNAME",
                where=where,
                hint="e.g. keyring:nettui-lab/admin (the service cannot contain '/', the username can)",
            )
    return SecretReference(backend, body)


def validate_entry_name(name: str) -> str:
    """Entry names are identifiers such as ``username``, ``password`` or ``enable_secret``."""
    if not _ENTRY_NAME.fullmatch(name):
        raise NettuiError(
            f"invalid entry name {name!r}",
            hint="start with a letter; use letters, digits, '_', '.', '-' (at most 100), e.g. password",
        )
    return name


def validate_group_name(name: str) -> str:
    """Group names are free text without control characters or surrounding spaces."""
    if not name or name != name.strip() or _CONTROL.search(name) or len(name) > 255:
        raise NettuiError(
            f"invalid secrets group name {name!r}",
            hint="use 1 to 255 printable characters without leading or trailing spaces, e.g. lab",
        )
    return name


def parse_assignment(text: str) -> tuple[str, str]:
    """Split a command-line ``ENTRY=REFERENCE`` into its two halves."""
    name, sep, ref = text.partition("=")
    if not sep or not name:
        # Not echoed: a lone word here may well be a password.
        raise NettuiError(
            "expected ENTRY=REFERENCE",
            hint=f"e.g. password=env:LAB_PASSWORD; a reference is {REFERENCE_SYNTAX}",
        )
    return validate_entry_name(name.strip()), ref


# -- resolution ------------------------------------------------------------------------------------


class SecretResolutionError(NettuiError):
    """A referenced secret could not be fetched; names the group, the entry and the backend.

    The message never contains the secret (there is none, or it could not be read).
    """

    def __init__(self, group: str, entry: str, backend: SecretBackend, what: str, *, hint: str | None = None) -> None:
        self.group = group
        self.entry = entry
        self.backend = backend
        super().__init__(what, where=f"secrets group {group!r} entry {entry!r} ({backend.value})", hint=hint)


@dataclass(frozen=True)
class EntryCheck:
    """The outcome of resolving one entry, without its value.

    ``problem`` says why a missing entry is missing; ``warning`` flags an entry that resolved but
    is unsafe (a secret file others can read).
    """

    entry: str
    backend: SecretBackend
    reference: str
    ok: bool
    problem: str | None = None
    hint: str | None = None
    warning: str | None = None

    @property
    def display_reference(self) -> str:
        return format_reference(self.backend, self.reference)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready record (references, status and reasons only)."""
        return {
            "entry": self.entry,
            "backend": self.backend.value,
            "reference": self.reference,
            "ok": self.ok,
            "problem": self.problem,
            "hint": self.hint,
            "warning": self.warning,
        }


def keyring_backend_name(backend: Any = None) -> str:
    """``module.Class`` of the active keyring backend (and what a chainer chains)."""
    if backend is None:
        import keyring

        backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    chained = getattr(backend, "backends", None)
    if type(backend).__name__ == "ChainerBackend" and chained:
        name += " (" + ", ".join(keyring_backend_name(b) for b in chained) + ")"
    return name


def _keyring_unusable(backend: Any) -> bool:
    from keyring.backends import fail

    return isinstance(backend, fail.Keyring)


class _Fail(Protocol):
    def __call__(self, what: str, hint: str | None = None) -> NoReturn: ...


def _resolve(entry: SecretsGroupEntry) -> tuple[Secret, str | None]:
    """Fetch one entry: the secret and an optional warning. Raises SecretResolutionError."""
    group = entry.group.name

    def fail(what: str, hint: str | None = None) -> NoReturn:
        # ``from None``: a chained exception must not reach a traceback (UnicodeDecodeError
        # carries the bytes it failed on); the message says all there is to say.
        raise SecretResolutionError(group, entry.name, entry.backend, what, hint=hint) from None

    if entry.backend is SecretBackend.ENV:
        return _resolve_env(entry.reference, fail), None
    if entry.backend is SecretBackend.FILE:
        return _resolve_file(entry.reference, fail)
    return _resolve_keyring(entry.reference, fail), None


def _resolve_env(variable: str, fail: _Fail) -> Secret:
    if variable not in os.environ:
        fail(
            f"environment variable {variable} is not set",
            f"export {variable} in the environment of every process that connects to devices "
            "(the engine service and the bastion too)",
        )
    if not os.environ[variable]:
        fail(f"environment variable {variable} is empty", f"give {variable} a value, or point the entry elsewhere")
    return Secret(os.environ[variable])


def _resolve_file(reference: str, fail: _Fail) -> tuple[Secret, str | None]:
    path = Path(os.path.expanduser(reference))
    try:
        st = path.stat()
    except FileNotFoundError:
        fail(f"file {path} does not exist", "create it (mode 600) with the secret on one line")
    except OSError as exc:
        fail(f"cannot reach file {path}: {exc.strerror}")
    if not stat.S_ISREG(st.st_mode):
        # A FIFO or a device would block or never end.
        fail(f"{path} is not a regular file")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_SECRET_BYTES + 1)
    except PermissionError:
        fail(
            f"file {path} is not readable by this process (uid {os.getuid()})",
            "make it readable by the user nettui runs as, and by nobody else (chmod 600)",
        )
    except OSError as exc:
        fail(f"cannot read file {path}: {exc.strerror}")
    if len(data) > MAX_FILE_SECRET_BYTES:
        del data
        fail(f"file {path} is larger than {MAX_FILE_SECRET_BYTES // 1024} KiB; is it the right file?")
    try:
        text: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    # Fail only once the raw bytes are gone, so no frame or exception context holds them.
    del data
    if text is None:
        fail(f"file {path} is not UTF-8 text")
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text:
        fail(f"file {path} is empty", "write the secret into it, on one line")
    warning = None
    if os.name == "posix" and st.st_mode & 0o077:
        # The same rule ssh applies to private keys.
        warning = (
            f"file {path} is accessible by group or others (mode {stat.S_IMODE(st.st_mode):04o}); run chmod 600 {path}"
        )
    return Secret(text), warning


def _resolve_keyring(reference: str, fail: _Fail) -> Secret:
    import keyring
    from keyring.errors import KeyringError, NoKeyringError

    service, _, username = reference.partition("/")
    backend = keyring.get_keyring()
    name = keyring_backend_name(backend)
    if _keyring_unusable(backend):
        fail(f"no usable keyring backend (the active one is {name})", _KEYRING_HEADLESS_HINT)
    try:
        value = keyring.get_password(service, username)
    except NoKeyringError:
        fail(f"no usable keyring backend (the active one is {name})", _KEYRING_HEADLESS_HINT)
    except KeyringError as exc:
        fail(f"keyring backend {name} failed: {type(exc).__name__}: {exc}", _KEYRING_HEADLESS_HINT)
    except Exception as exc:
        # Third-party backends raise their own types (D-Bus, locked collection...).
        fail(f"keyring backend {name} failed: {type(exc).__name__}: {exc}", _KEYRING_HEADLESS_HINT)
    if value is None:
        fail(
            f"no item service {service!r} username {username!r} in keyring backend {name}",
            f"store it with `nettui secrets store-keyring {service}/{username}`",
        )
    if not value:
        fail(f"keyring item service {service!r} username {username!r} in backend {name} is empty")
    return Secret(value)


def resolve_entry(entry: SecretsGroupEntry) -> Secret:
    """Fetch the secret an entry points to. Raises :class:`SecretResolutionError`.

    A file others can read resolves but logs a warning (naming the file, never the content).
    """
    secret, warning = _resolve(entry)
    if warning:
        log.warning("secrets group %r entry %r: %s", entry.group.name, entry.name, warning)
    return secret


def resolve_group(group: SecretsGroup) -> dict[str, Secret]:
    """Fetch every entry of a group; the first missing one raises :class:`SecretResolutionError`."""
    return {entry.name: resolve_entry(entry) for entry in group.entries}


def check_group(group: SecretsGroup) -> list[EntryCheck]:
    """Try every entry of a group and report each one's status; never returns a value."""
    results = []
    for entry in group.entries:
        try:
            _, warning = _resolve(entry)
        except SecretResolutionError as exc:
            results.append(
                EntryCheck(entry.name, entry.backend, entry.reference, ok=False, problem=exc.what, hint=exc.hint)
            )
        else:
            results.append(EntryCheck(entry.name, entry.backend, entry.reference, ok=True, warning=warning))
    return results


def store_in_keyring(reference: str, secret: Secret) -> str:
    """Write ``secret`` into the keyring item a ``SERVICE/USERNAME`` (or ``keyring:...``)
    reference names; returns the backend's name. The store is not touched."""
    import keyring
    from keyring.errors import NoKeyringError

    text = reference if reference.startswith("keyring:") else f"keyring:{reference}"
    ref = parse_reference(text, where="keyring item")
    if ref.backend is not SecretBackend.KEYRING:
        raise NettuiError("not a keyring item", hint="give SERVICE/USERNAME, e.g. nettui-lab/admin")
    if not secret:
        raise NettuiError("refusing to store an empty secret", where=f"keyring item {ref.reference}")
    service, username = ref.keyring_item
    backend = keyring.get_keyring()
    name = keyring_backend_name(backend)
    where = f"keyring item {ref.reference}"
    if _keyring_unusable(backend):
        raise NettuiError(
            f"no usable keyring backend (the active one is {name})", where=where, hint=_KEYRING_HEADLESS_HINT
        )
    try:
        keyring.set_password(service, username, secret.reveal())
    except NoKeyringError:
        raise NettuiError(
            f"no usable keyring backend (the active one is {name})", where=where, hint=_KEYRING_HEADLESS_HINT
        ) from None
    except Exception as exc:
        raise NettuiError(f"keyring backend {name} failed: {type(exc).__name__}: {exc}", where=where) from None
    return name


# -- the store -------------------------------------------------------------------------------------


def list_groups(session: Session) -> list[SecretsGroup]:
    """Every secrets group, by name, with its entries loaded."""
    stmt = select(SecretsGroup).options(selectinload(SecretsGroup.entries)).order_by(SecretsGroup.name)
    return list(session.scalars(stmt))


def find_group(session: Session, name: str) -> SecretsGroup | None:
    """The group called ``name``, or None."""
    stmt = select(SecretsGroup).options(selectinload(SecretsGroup.entries)).where(SecretsGroup.name == name)
    return session.scalars(stmt).one_or_none()


def get_group(session: Session, name: str) -> SecretsGroup:
    """The group called ``name``; NotFoundError (suggesting close names) if there is none."""
    group = find_group(session, name)
    if group is None:
        names = list(session.scalars(select(SecretsGroup.name)))
        close = difflib.get_close_matches(name, names, n=3)
        if close:
            hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
        elif names:
            hint = "see `nettui secrets list`"
        else:
            hint = "there are no secrets groups yet; create one with `nettui secrets set GROUP ENTRY=REFERENCE`"
        raise NotFoundError(f"no secrets group {name!r}", hint=hint)
    return group


def set_group_entries(
    session: Session, group_name: str, entries: Mapping[str, str], description: str | None = None
) -> SecretsGroup:
    """Create the group if missing and add or replace entries (``{entry: "backend:ref"}``).

    Every reference is checked before anything is written, so a bad one changes nothing.
    """
    validate_group_name(group_name)
    parsed = {
        validate_entry_name(name): parse_reference(text, where=f"secrets group {group_name!r} entry {name!r}")
        for name, text in entries.items()
    }
    group = find_group(session, group_name)
    if group is None:
        group = SecretsGroup(name=group_name, description=description or "")
        session.add(group)
    elif description is not None:
        group.description = description
    existing = {entry.name: entry for entry in group.entries}
    for name, ref in parsed.items():
        entry = existing.get(name)
        if entry is None:
            group.entries.append(SecretsGroupEntry(name=name, backend=ref.backend, reference=ref.reference))
        else:
            entry.backend = ref.backend
            entry.reference = ref.reference
    session.flush()
    return group


def remove_entries(session: Session, group_name: str, names: Iterable[str]) -> SecretsGroup:
    """Remove entries from a group; all of them must exist (else nothing is removed)."""
    group = get_group(session, group_name)
    wanted = list(dict.fromkeys(names))
    existing = {entry.name: entry for entry in group.entries}
    missing = [n for n in wanted if n not in existing]
    if missing:
        raise NotFoundError(
            f"no entry {', '.join(repr(m) for m in missing)}",
            where=f"secrets group {group_name!r}",
            hint=f"its entries are: {', '.join(existing) or '(none)'}",
        )
    for name in wanted:
        group.entries.remove(existing[name])
    session.flush()
    return group


def delete_group(session: Session, group_name: str) -> None:
    """Delete a group and its entries; refused while devices still use it."""
    group = get_group(session, group_name)
    users = list(session.scalars(select(Device.name).where(Device.secrets_group_id == group.id).order_by(Device.name)))
    if users:
        shown = ", ".join(users[:5]) + (f" and {len(users) - 5} more" if len(users) > 5 else "")
        raise NettuiError(
            f"secrets group is used by {len(users)} device(s): {shown}",
            where=f"secrets group {group_name!r}",
            hint="point those devices at another group first",
        )
    session.delete(group)
    session.flush()


def group_record(group: SecretsGroup) -> dict[str, Any]:
    """A JSON-ready description of a group: references only, never values."""
    return {
        "name": group.name,
        "description": group.description,
        "entries": [{"name": e.name, "backend": e.backend.value, "reference": e.reference} for e in group.entries],
    }
