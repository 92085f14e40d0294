"""Secrets groups: references parse strictly, resolve from env/file/keyring, and never leak."""

from __future__ import annotations

import copy
import json
import logging
import os
import pickle
import shutil
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import pytest
from keyring.backends import fail as fail_backend
from keyring.errors import KeyringLocked, NoKeyringError
from keyrings.alt.file import PlaintextKeyring  # type: ignore[import-untyped]

from catalog.errors import NettuiError, NotFoundError
from catalog.models import Device, SecretsGroup
from catalog.models.choices import SecretBackend
from catalog.secrets import (
    Secret,
    SecretResolutionError,
    check_group,
    delete_group,
    get_group,
    list_groups,
    parse_assignment,
    parse_reference,
    remove_entries,
    resolve_entry,
    resolve_group,
    set_group_entries,
    store_in_keyring,
)
from catalog.store import Store
from tests.conftest import run_cli

# Distinctive values, so that finding one in any output is unambiguous.
SECRET = "Tr0ub4dor&3-correct-horse"
OTHER_SECRET = "s3cr3t-b4tt3ry-st4pl3"


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def use_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Install a keyring backend for one test; keyring caches its backend, so restore it after."""
    previous = keyring.get_keyring()
    installed: list[Any] = []

    def install(backend: keyring.backend.KeyringBackend) -> keyring.backend.KeyringBackend:
        keyring.set_keyring(backend)
        installed.append(backend)
        return backend

    yield install
    keyring.set_keyring(previous)


@pytest.fixture
def plaintext_keyring(
    monkeypatch: pytest.MonkeyPatch, use_keyring: Any, tmp_path: Path
) -> keyring.backend.KeyringBackend:
    """keyrings.alt's file backend, writing under this test's XDG_DATA_HOME."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    backend = use_keyring(PlaintextKeyring())
    assert str(backend.file_path).startswith(str(tmp_path))
    return backend  # type: ignore[no-any-return]


def _set(store: Store, group: str, entries: dict[str, str], description: str | None = None) -> None:
    with store.session() as session:
        set_group_entries(session, group, entries, description=description)


def _resolve(store: Store, group: str) -> dict[str, Secret]:
    with store.read_session() as session:
        return resolve_group(get_group(session, group))


def _resolution_error(store: Store, group: str, entry: str) -> SecretResolutionError:
    with store.read_session() as session:
        grp = get_group(session, group)
        target = next(e for e in grp.entries if e.name == entry)
        with pytest.raises(SecretResolutionError) as info:
            resolve_entry(target)
    return info.value


def _secret_file(tmp_path: Path, content: str | bytes, mode: int = 0o600, name: str = "secret") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    path.chmod(mode)
    return path


# -- reference syntax -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "backend", "reference"),
    [
        ("env:LAB_PASSWORD", SecretBackend.ENV, "LAB_PASSWORD"),
        ("env:_x1", SecretBackend.ENV, "_x1"),
        ("file:/etc/nettui/pw", SecretBackend.FILE, "/etc/nettui/pw"),
        ("file:~/secrets/pw", SecretBackend.FILE, "~/secrets/pw"),
        ("keyring:nettui-lab/admin", SecretBackend.KEYRING, "nettui-lab/admin"),
        ("keyring:svc/DOMAIN/user", SecretBackend.KEYRING, "svc/DOMAIN/user"),
    ],
)
def test_references_parse(text: str, backend: SecretBackend, reference: str) -> None:
    ref = parse_reference(text)
    assert (ref.backend, ref.reference, str(ref)) == (backend, reference, text)


def test_keyring_reference_splits_at_the_first_slash() -> None:
    assert parse_reference("keyring:svc/DOMAIN/user").keyring_item == ("svc", "DOMAIN/user")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("env:", "not a valid environment variable name"),
        ("env:1ABC", "not a valid environment variable name"),
        ("env:LAB-PASSWORD", "not a valid environment variable name"),
        ("env: LAB", "leading or trailing spaces"),
        ("file:", "has no path"),
        ("file:secrets/pw", "is relative"),
        ("file:/a\x00b", "control characters"),
        ("keyring:", "is not SERVICE/USERNAME"),
        ("keyring:service", "is not SERVICE/USERNAME"),
        ("keyring:/user", "is not SERVICE/USERNAME"),
        ("keyring:service/", "is not SERVICE/USERNAME"),
    ],
)
def test_bad_references_are_refused(text: str, message: str) -> None:
    with pytest.raises(NettuiError, match=message) as info:
        parse_reference(text, where="secrets group 'lab' entry 'password'")
    assert info.value.where == "secrets group 'lab' entry 'password'"
    assert info.value.hint


@pytest.mark.parametrize("literal", [SECRET, "vault:path/to/it", "ENV:LAB", "hunter2:with-colon", ""])
def test_a_literal_value_is_refused_without_being_echoed(literal: str) -> None:
    with pytest.raises(NettuiError) as info:
        parse_reference(literal)
    assert "not a secret reference" in info.value.what
    assert "env:VARIABLE, file:/path/to/file or keyring:SERVICE/USERNAME" in (info.value.hint or "")
    if literal:
        assert literal not in str(info.value)


def test_assignment_without_equals_is_not_echoed() -> None:
    with pytest.raises(NettuiError, match="expected ENTRY=REFERENCE") as info:
        parse_assignment(SECRET)
    assert SECRET not in str(info.value)
    assert parse_assignment("password=env:X=Y") == ("password", "env:X=Y")


# -- the Secret type ------------------------------------------------------------------------------


def test_secret_never_shows_its_value(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret(SECRET)
    assert secret.reveal() == SECRET
    shown = [
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret:>40}",
        "%s %r" % (secret, secret),  # noqa: UP031 - the old style must be masked too
        "{}".format(secret),  # noqa: UP032
        repr([secret]),
        repr({"password": secret}),
    ]
    assert all(SECRET not in text for text in shown)
    assert repr(secret) == "Secret('********')"
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("connecting with %s", secret)
    assert SECRET not in caplog.text
    assert "********" in caplog.text


def test_secret_is_not_picklable_and_compares_without_leaking() -> None:
    secret = Secret(SECRET)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(secret)
    with pytest.raises(TypeError):
        json.dumps(secret)
    assert secret == Secret(SECRET)
    assert secret != Secret(OTHER_SECRET)
    assert secret != SECRET  # a Secret is not its plain value
    assert copy.deepcopy(secret) == secret
    assert len({secret, Secret(SECRET)}) == 1
    with pytest.raises(AttributeError):
        secret._value = "x"
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]


def test_a_traceback_with_locals_does_not_contain_the_secret() -> None:
    def connect(password: Secret) -> None:
        raise ConnectionError(f"login failed with password {password}")

    try:
        connect(Secret(SECRET))
    except ConnectionError as exc:
        rendered = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    assert "password = Secret('********')" in rendered
    assert SECRET not in rendered


# -- env: -----------------------------------------------------------------------------------------


def test_env_reference_resolves(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    _set(store, "lab", {"username": "env:LAB_USER", "password": "env:LAB_PASSWORD"})
    monkeypatch.setenv("LAB_USER", "admin")
    monkeypatch.setenv("LAB_PASSWORD", SECRET)
    resolved = _resolve(store, "lab")
    assert {k: v.reveal() for k, v in resolved.items()} == {"username": "admin", "password": SECRET}


def test_env_unset_or_empty_names_group_entry_and_backend(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    _set(store, "lab", {"password": "env:LAB_PASSWORD"})
    monkeypatch.delenv("LAB_PASSWORD", raising=False)
    error = _resolution_error(store, "lab", "password")
    assert str(error).splitlines()[0] == (
        "secrets group 'lab' entry 'password' (env): environment variable LAB_PASSWORD is not set"
    )
    assert (error.group, error.entry, error.backend) == ("lab", "password", SecretBackend.ENV)
    monkeypatch.setenv("LAB_PASSWORD", "")
    assert "environment variable LAB_PASSWORD is empty" in str(_resolution_error(store, "lab", "password"))


# -- file: ----------------------------------------------------------------------------------------


def test_file_reference_resolves_and_strips_one_newline(store: Store, tmp_path: Path) -> None:
    _secret_file(tmp_path, SECRET + "\n", name="a")
    _secret_file(tmp_path, SECRET + "\n\n", name="b")
    _secret_file(tmp_path, SECRET + "\r\n", name="c")
    _secret_file(tmp_path, SECRET, name="d")
    _set(store, "f", {x: f"file:{tmp_path / x}" for x in "abcd"})
    resolved = {k: v.reveal() for k, v in _resolve(store, "f").items()}
    assert resolved == {"a": SECRET, "b": SECRET + "\n", "c": SECRET, "d": SECRET}


def test_file_reference_expands_home(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    _secret_file(tmp_path, SECRET + "\n", name="pw")
    _set(store, "home", {"password": "file:~/pw"})
    assert _resolve(store, "home")["password"].reveal() == SECRET


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "does not exist"),
        ("empty", "is empty"),
        ("newline-only", "is empty"),
        ("directory", "is not a regular file"),
        ("binary", "is not UTF-8 text"),
        ("huge", "is larger than 64 KiB"),
    ],
)
def test_file_problems_name_group_entry_and_backend(store: Store, tmp_path: Path, setup: str, message: str) -> None:
    path = tmp_path / "pw"
    if setup == "empty":
        _secret_file(tmp_path, "", name="pw")
    elif setup == "newline-only":
        _secret_file(tmp_path, "\n", name="pw")
    elif setup == "directory":
        path.mkdir()
    elif setup == "binary":
        _secret_file(tmp_path, SECRET.encode() + b"\xff\xfe", name="pw")
    elif setup == "huge":
        _secret_file(tmp_path, SECRET * 10_000, name="pw")
    _set(store, "lab", {"password": f"file:{path}"})
    error = _resolution_error(store, "lab", "password")
    assert str(error).startswith("secrets group 'lab' entry 'password' (file): ")
    assert str(path) in str(error)
    assert message in str(error)
    # Nothing read from the file travels with the error, not even as a chained exception.
    assert SECRET not in str(error)
    assert error.__cause__ is None
    assert error.__suppress_context__
    rendered = "".join(traceback.format_exception(error))
    assert SECRET not in rendered
    if setup == "binary":
        # UnicodeDecodeError.object would hold the raw bytes: it must not even be the context.
        assert error.__context__ is None


def test_unreadable_file(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _secret_file(tmp_path, SECRET, mode=0o000)
    if os.geteuid() == 0:  # root reads any file: make this one refuse anyway
        real_open = Path.open

        def refusing_open(self: Path, *args: Any, **kwargs: Any) -> Any:
            if self == path:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", refusing_open)
    _set(store, "lab", {"password": f"file:{path}"})
    assert "is not readable by this process" in str(_resolution_error(store, "lab", "password"))


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_file_readable_by_others_warns_but_resolves(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _secret_file(tmp_path, SECRET, mode=0o644)
    _set(store, "lab", {"password": f"file:{path}"})
    with caplog.at_level(logging.WARNING, logger="catalog.secrets"):
        assert _resolve(store, "lab")["password"].reveal() == SECRET
    assert "accessible by group or others (mode 0644)" in caplog.text
    assert f"chmod 600 {path}" in caplog.text
    assert SECRET not in caplog.text
    with store.read_session() as session:
        [result] = check_group(get_group(session, "lab"))
    assert result.ok
    assert result.warning is not None
    assert "mode 0644" in result.warning


# -- keyring: -------------------------------------------------------------------------------------


def test_keyring_reference_resolves(store: Store, plaintext_keyring: Any) -> None:
    keyring.set_password("nettui-lab", "admin", SECRET)
    keyring.set_password("nettui-lab", "CORP/svc", OTHER_SECRET)
    _set(store, "lab", {"password": "keyring:nettui-lab/admin", "token": "keyring:nettui-lab/CORP/svc"})
    resolved = _resolve(store, "lab")
    assert resolved["password"].reveal() == SECRET
    assert resolved["token"].reveal() == OTHER_SECRET


def test_keyring_missing_item_names_the_backend(store: Store, plaintext_keyring: Any) -> None:
    _set(store, "lab", {"password": "keyring:nettui-lab/nobody"})
    error = _resolution_error(store, "lab", "password")
    assert str(error).startswith(
        "secrets group 'lab' entry 'password' (keyring): no item service 'nettui-lab' username 'nobody' "
        "in keyring backend keyrings.alt.file.PlaintextKeyring"
    )
    assert "nettui secrets store-keyring nettui-lab/nobody" in (error.hint or "")


class _NoKeyring(keyring.backend.KeyringBackend):
    """A backend that, like a headless server's, has nowhere to look."""

    priority = 1

    def get_password(self, service: str, username: str) -> str | None:
        raise NoKeyringError("nothing here")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NoKeyringError("nothing here")

    def delete_password(self, service: str, username: str) -> None:
        raise NoKeyringError("nothing here")


class _LockedKeyring(_NoKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")


@pytest.mark.parametrize("backend", [fail_backend.Keyring, _NoKeyring])
def test_no_keyring_backend_gives_the_headless_hint(store: Store, use_keyring: Any, backend: type[Any]) -> None:
    use_keyring(backend())
    _set(store, "lab", {"password": "keyring:nettui-lab/admin"})
    error = _resolution_error(store, "lab", "password")
    assert str(error).startswith("secrets group 'lab' entry 'password' (keyring): no usable keyring backend")
    assert backend.__name__ in str(error)
    assert "headless server" in (error.hint or "")
    assert "env: or file:" in (error.hint or "")
    assert "PYTHON_KEYRING_BACKEND" in (error.hint or "")


def test_a_failing_keyring_backend_is_reported(store: Store, use_keyring: Any) -> None:
    use_keyring(_LockedKeyring())  # type: ignore[no-untyped-call]
    _set(store, "lab", {"password": "keyring:nettui-lab/admin"})
    error = _resolution_error(store, "lab", "password")
    assert "KeyringLocked: the collection is locked" in str(error)
    assert "_LockedKeyring" in str(error)


def test_store_in_keyring_writes_the_keyring_not_the_store(store: Store, plaintext_keyring: Any) -> None:
    assert store_in_keyring("nettui-lab/admin", Secret(SECRET)) == "keyrings.alt.file.PlaintextKeyring"
    assert keyring.get_password("nettui-lab", "admin") == SECRET
    with pytest.raises(NettuiError, match="empty"):
        store_in_keyring("nettui-lab/admin", Secret(""))
    with pytest.raises(NettuiError, match="SERVICE/USERNAME"):
        store_in_keyring("no-slash", Secret(SECRET))
    with store.read_session() as session:
        assert list_groups(session) == []


def test_store_in_keyring_without_a_backend(use_keyring: Any) -> None:
    use_keyring(fail_backend.Keyring())  # type: ignore[no-untyped-call]
    with pytest.raises(NettuiError, match="no usable keyring backend") as info:
        store_in_keyring("nettui-lab/admin", Secret(SECRET))
    assert "headless" in (info.value.hint or "")


# -- check_group ----------------------------------------------------------------------------------


def test_check_group_reports_every_entry_without_values(
    store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, plaintext_keyring: Any
) -> None:
    monkeypatch.setenv("LAB_USER", SECRET)
    keyring.set_password("svc", "admin", OTHER_SECRET)
    _set(
        store,
        "lab",
        {
            "username": "env:LAB_USER",
            "password": "keyring:svc/admin",
            "enable": f"file:{tmp_path / 'missing'}",
            "token": "env:LAB_TOKEN",
        },
    )
    with store.read_session() as session:
        results = {r.entry: r for r in check_group(get_group(session, "lab"))}
    assert {name: r.ok for name, r in results.items()} == {
        "username": True,
        "password": True,
        "enable": False,
        "token": False,
    }
    assert results["token"].problem == "environment variable LAB_TOKEN is not set"
    assert results["enable"].backend is SecretBackend.FILE
    dumped = repr(results) + json.dumps([r.as_dict() for r in results.values()])
    assert SECRET not in dumped
    assert OTHER_SECRET not in dumped


# -- group management -----------------------------------------------------------------------------


def test_set_upserts_and_a_bad_reference_changes_nothing(store: Store) -> None:
    _set(store, "lab", {"username": "env:LAB_USER", "password": "env:LAB_PASSWORD"}, description="Lab")
    _set(store, "lab", {"password": "keyring:svc/admin", "enable": "file:/etc/enable"})
    with pytest.raises(NettuiError, match="not a secret reference"):
        _set(store, "lab", {"username": "env:OTHER", "password": SECRET})
    with pytest.raises(NettuiError, match="not a secret reference"):
        _set(store, "new-group", {"password": SECRET})
    with store.read_session() as session:
        groups = list_groups(session)
        assert [g.name for g in groups] == ["lab"]
        [lab] = groups
        assert lab.description == "Lab"
        assert [(e.name, e.backend, e.reference) for e in lab.entries] == [
            ("enable", SecretBackend.FILE, "/etc/enable"),
            ("password", SecretBackend.KEYRING, "svc/admin"),
            ("username", SecretBackend.ENV, "LAB_USER"),
        ]


def test_remove_entries_is_all_or_nothing(store: Store) -> None:
    _set(store, "lab", {"username": "env:A", "password": "env:B"})
    with pytest.raises(NotFoundError, match="no entry 'nope'"), store.session() as session:
        remove_entries(session, "lab", ["password", "nope"])
    with store.session() as session:
        remove_entries(session, "lab", ["password"])
    with store.read_session() as session:
        assert [e.name for e in get_group(session, "lab").entries] == ["username"]


def test_unknown_group_suggests_close_names(store: Store) -> None:
    _set(store, "lab-core", {"password": "env:A"})
    with store.read_session() as session, pytest.raises(NotFoundError, match="no secrets group 'lab-cor'") as info:
        get_group(session, "lab-cor")
    assert "did you mean 'lab-core'?" in (info.value.hint or "")


def test_group_in_use_by_a_device_cannot_be_deleted(store: Store) -> None:
    _set(store, "lab", {"password": "env:A"})
    _set(store, "spare", {"password": "env:B"})
    with store.session() as session:
        group = session.query(SecretsGroup).filter_by(name="lab").one()
        session.add(Device(name="sw1", host="192.0.2.1", secrets_group=group))
    with pytest.raises(NettuiError, match=r"used by 1 device.*sw1"), store.session() as session:
        delete_group(session, "lab")
    with store.session() as session:
        delete_group(session, "spare")
    with store.read_session() as session:
        assert [g.name for g in list_groups(session)] == ["lab"]


@pytest.mark.parametrize("name", ["", " lab", "lab ", "a\tb", "x" * 256])
def test_bad_group_names(store: Store, name: str) -> None:
    with pytest.raises(NettuiError, match="invalid secrets group name"):
        _set(store, name, {"password": "env:A"})


# -- the CLI --------------------------------------------------------------------------------------


def _all_output(result: Any) -> str:
    return str(result.stdout) + str(result.stderr)


def test_cli_set_list_show_unset(store: Store) -> None:
    result = run_cli(
        store, "secrets", "set", "lab", "username=env:LAB_USER", "password=keyring:nettui-lab/admin",
        "--description", "Lab devices",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "secrets group 'lab' created" in result.stderr

    listed = run_cli(store, "secrets", "list", "--json")
    assert json.loads(listed.stdout) == [
        {
            "name": "lab",
            "description": "Lab devices",
            "entries": [
                {"name": "password", "backend": "keyring", "reference": "nettui-lab/admin"},
                {"name": "username", "backend": "env", "reference": "LAB_USER"},
            ],
        }
    ]
    table = run_cli(store, "secrets", "list")
    assert "lab" in table.stdout
    assert "password,username" in table.stdout

    shown = run_cli(store, "secrets", "show", "lab")
    assert "keyring:nettui-lab/admin" in shown.stdout
    assert "env:LAB_USER" in shown.stdout
    assert json.loads(run_cli(store, "secrets", "show", "lab", "--json").stdout)["name"] == "lab"

    assert run_cli(store, "secrets", "unset", "lab", "username").exit_code == 0
    missing = run_cli(store, "secrets", "unset", "lab", "username")
    assert missing.exit_code == 1
    assert "no entry 'username'" in missing.stderr

    unknown = run_cli(store, "secrets", "show", "lbb")
    assert unknown.exit_code == 1
    assert "error: no secrets group 'lbb'" in unknown.stderr
    assert "did you mean 'lab'?" in unknown.stderr


@pytest.mark.parametrize("argument", [f"password={SECRET}", SECRET, f"password=vault:{SECRET}"])
def test_cli_set_refuses_literal_secrets(store: Store, argument: str) -> None:
    result = run_cli(store, "secrets", "set", "lab", argument)
    assert result.exit_code == 1
    assert SECRET not in _all_output(result)
    assert "keyring:SERVICE/USERNAME" in result.stderr
    with store.read_session() as session:
        assert list_groups(session) == []


def test_cli_check_never_prints_secrets(
    store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, plaintext_keyring: Any
) -> None:
    monkeypatch.setenv("LAB_PASSWORD", SECRET)
    keyring.set_password("nettui-lab", "admin", OTHER_SECRET)
    secret_file = _secret_file(tmp_path, SECRET + "-file\n", mode=0o640)
    _set(
        store,
        "lab",
        {"password": "env:LAB_PASSWORD", "enable": "keyring:nettui-lab/admin", "key": f"file:{secret_file}"},
    )

    ok = run_cli(store, "secrets", "check", "lab")
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout.count(" ok ") == 3
    assert "mode 0640" in _all_output(ok)
    ok_json = run_cli(store, "secrets", "check", "lab", "--json")
    assert ok_json.exit_code == 0
    report = json.loads(ok_json.stdout)
    assert report["ok"] is True
    assert [e["ok"] for e in report["entries"]] == [True, True, True]

    # One missing entry: the others still resolve, and still are not printed.
    _set(store, "lab", {"token": "env:LAB_TOKEN"})
    bad = run_cli(store, "secrets", "check", "lab")
    assert bad.exit_code == 1
    assert "MISSING" in bad.stdout
    assert "error: secrets group 'lab' entry 'token' (env): environment variable LAB_TOKEN is not set" in bad.stderr
    assert "1 of 4 entries" in bad.stderr
    bad_json = run_cli(store, "secrets", "check", "lab", "--json")
    assert bad_json.exit_code == 1
    report = json.loads(bad_json.stdout)
    assert report["ok"] is False
    token = next(e for e in report["entries"] if e["entry"] == "token")
    assert token == {
        "entry": "token",
        "backend": "env",
        "reference": "LAB_TOKEN",
        "ok": False,
        "problem": "environment variable LAB_TOKEN is not set",
        "hint": token["hint"],
        "warning": None,
    }

    for result in (ok, ok_json, bad, bad_json):
        text = _all_output(result)
        assert SECRET not in text
        assert OTHER_SECRET not in text


def test_cli_check_without_a_keyring_backend(store: Store, use_keyring: Any) -> None:
    use_keyring(fail_backend.Keyring())  # type: ignore[no-untyped-call]
    _set(store, "lab", {"password": "keyring:nettui-lab/admin"})
    result = run_cli(store, "secrets", "check", "lab")
    assert result.exit_code == 1
    assert "no usable keyring backend (the active one is keyring.backends.fail.Keyring)" in result.stderr
    assert "headless server" in result.stderr


def test_cli_store_keyring_prompts_and_never_echoes(store: Store, plaintext_keyring: Any) -> None:
    result = run_cli(store, "secrets", "store-keyring", "nettui-lab/admin", input=f"{SECRET}\n{SECRET}\n")
    assert result.exit_code == 0, result.stderr
    assert SECRET not in _all_output(result)
    assert keyring.get_password("nettui-lab", "admin") == SECRET
    assert "unencrypted" in result.stderr
    _set(store, "lab", {"password": "keyring:nettui-lab/admin"})
    assert _resolve(store, "lab")["password"].reveal() == SECRET


def test_cli_delete_group(store: Store) -> None:
    _set(store, "lab", {"password": "env:A"})
    assert run_cli(store, "secrets", "delete", "lab").exit_code == 2  # --yes is required
    assert run_cli(store, "secrets", "delete", "lab", "--yes").exit_code == 0
    assert json.loads(run_cli(store, "secrets", "list", "--json").stdout) == []


def _console_script() -> str:
    found = Path(sys.executable).parent / "nettui"
    if found.exists():
        return str(found)
    which = shutil.which("nettui")
    assert which, "the nettui console script is not installed"
    return which


def test_installed_console_script_checks_env_references(store: Store) -> None:
    """The real `nettui` executable, in its own process: exit status 0 when every reference
    resolves, 1 when one does not, and never the secret on either stream."""
    _set(store, "lab", {"password": "env:NETTUI_TEST_LAB_PASSWORD"})
    command = [_console_script(), "--database", store.url.render_as_string(hide_password=False)]
    env = {k: v for k, v in os.environ.items() if k != "NETTUI_TEST_LAB_PASSWORD"}

    ok = subprocess.run(
        [*command, "secrets", "check", "lab", "--json"],
        env={**env, "NETTUI_TEST_LAB_PASSWORD": SECRET},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ok"] is True
    assert SECRET not in ok.stdout + ok.stderr

    missing = subprocess.run(
        [*command, "secrets", "check", "lab"], env=env, capture_output=True, text=True, timeout=120
    )
    assert missing.returncode == 1
    assert (
        "error: secrets group 'lab' entry 'password' (env): environment variable NETTUI_TEST_LAB_PASSWORD is not set"
        in missing.stderr
    )
    assert "Traceback" not in missing.stderr

    literal = subprocess.run(
        [*command, "secrets", "set", "lab", f"password={SECRET}"], env=env, capture_output=True, text=True, timeout=120
    )
    assert literal.returncode == 1
    assert SECRET not in literal.stdout + literal.stderr


def test_installed_console_script_reads_the_configured_keyring(sqlite_store: Store, plaintext_keyring: Any) -> None:
    """PYTHON_KEYRING_BACKEND reaches a fresh process: it reads what this one wrote."""
    keyring.set_password("nettui-lab", "admin", SECRET)
    _set(sqlite_store, "lab", {"password": "keyring:nettui-lab/admin"})
    command = [_console_script(), "--database", sqlite_store.url.render_as_string(hide_password=False)]
    ok = subprocess.run([*command, "secrets", "check", "lab"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert SECRET not in ok.stdout + ok.stderr
    keyring.delete_password("nettui-lab", "admin")
    gone = subprocess.run([*command, "secrets", "check", "lab"], capture_output=True, text=True, timeout=120)
    assert gone.returncode == 1
    assert "in keyring backend keyrings.alt.file.PlaintextKeyring" in gone.stderr
