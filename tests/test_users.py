"""Users: names fit the bastion, SSH keys are real and unique, scope is validated and enforced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from catalog.errors import NettuiError, NotFoundError
from catalog.models import Device, DeviceRole, Location, SessionRecord, Tag, Tenant, User
from catalog.models.choices import UserRole
from catalog.store import Store
from catalog.users import (
    Scope,
    add_user,
    device_in_scope,
    get_user,
    list_users,
    parse_ssh_key,
    remove_user,
    update_user,
    validate_username,
)
from tests.conftest import run_cli


def _keypair(algorithm: str = "ssh-ed25519", comment: str = "alice@laptop") -> tuple[str, str, str]:
    """(public key line, private key text, ssh-keygen -l fingerprint) of a fresh key."""
    kwargs: dict[str, Any] = {"key_size": 2048} if algorithm == "ssh-rsa" else {}
    key = asyncssh.generate_private_key(algorithm, comment=comment, **kwargs)
    public = key.export_public_key("openssh").decode().strip()
    private = key.export_private_key("openssh").decode()
    return public, private, key.get_fingerprint("sha256")


@pytest.fixture
def inventory(store: Store) -> Store:
    """Locations (a region with two sites), tenants, tags and roles to scope users by."""
    with store.session() as session:
        eu = Location(name="Europe", slug="europe", location_type="region")
        session.add_all(
            [
                eu,
                Location(name="Paris", slug="paris", parent=eu),
                Location(name="Berlin", slug="berlin", parent=eu),
                Location(name="New York", slug="new-york"),
                Tenant(name="Acme", slug="acme"),
                Tenant(name="Globex", slug="globex"),
                Tag(name="Core", slug="core"),
                Tag(name="Edge", slug="edge"),
                Tag(name="Lab", slug="lab"),
                DeviceRole(name="Access Switch", slug="access-switch"),
                DeviceRole(name="Router", slug="router"),
            ]
        )
    return store


# -- usernames ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "alice", "bob.smith", "x-1_2", "a" * 64])
def test_valid_usernames(name: str) -> None:
    assert validate_username(name) == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Alice", "invalid username"),
        ("1bob", "invalid username"),
        ("_bob", "invalid username"),
        ("bob smith", "invalid username"),
        ("", "invalid username"),
        ("a" * 65, "invalid username"),
        ("bob%sw1", "'%' and '@' cannot be part of a username"),
        ("bob@host", "'%' and '@' cannot be part of a username"),
        ("bób", "invalid username"),
    ],
)
def test_invalid_usernames(name: str, message: str) -> None:
    with pytest.raises(NettuiError, match=message) as info:
        validate_username(name)
    assert info.value.hint


def test_percent_hint_explains_the_bastion_syntax() -> None:
    with pytest.raises(NettuiError) as info:
        validate_username("alice%sw1")
    assert "USER%DEVICE@HOST" in (info.value.hint or "")
    with pytest.raises(NettuiError) as info:
        validate_username("Alice")
    assert "e.g. 'alice'" in (info.value.hint or "")


# -- SSH keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256"])
def test_parse_key_text_and_file(tmp_path: Path, algorithm: str) -> None:
    public, _, fingerprint = _keypair(algorithm, comment="alice@laptop")
    key_type, blob, comment = public.split(" ")
    from_text = parse_ssh_key(public)
    assert from_text.key_type == key_type == algorithm
    assert from_text.public_key == f"{key_type} {blob}"
    assert from_text.comment == comment == "alice@laptop"
    assert from_text.fingerprint == fingerprint
    assert fingerprint.startswith("SHA256:")
    path = tmp_path / "id.pub"
    path.write_text(public + "\n")
    assert parse_ssh_key(str(path)) == from_text


def test_key_without_comment() -> None:
    public, _, fingerprint = _keypair()
    bare = " ".join(public.split(" ")[:2])
    parsed = parse_ssh_key(bare)
    assert (parsed.comment, parsed.fingerprint, parsed.public_key) == ("", fingerprint, bare)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ssh-ed25519 AAAAnotakey alice", "not a valid OpenSSH public key"),
        ("ssh-ed25519", "not a valid OpenSSH public key"),
        ("/nonexistent/id.pub", "no such file"),
        ("id_nothing.pub", "no such file"),
    ],
)
def test_malformed_keys_are_refused(value: str, message: str) -> None:
    with pytest.raises(NettuiError, match=message) as info:
        parse_ssh_key(value)
    assert ".pub" in (info.value.hint or "")


def test_a_private_key_is_refused_and_not_repeated(tmp_path: Path) -> None:
    _, private, _ = _keypair()
    path = tmp_path / "id_ed25519"
    path.write_text(private)
    for value in (private, str(path)):
        with pytest.raises(NettuiError, match="this is a private key") as info:
            parse_ssh_key(value)
        body = private.splitlines()[1]
        assert body not in str(info.value)


def test_a_file_with_two_keys_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.pub"
    path.write_text(_keypair()[0] + "\n" + _keypair()[0] + "\n")
    with pytest.raises(NettuiError, match="found several lines"):
        parse_ssh_key(str(path))


# -- add, list, show ------------------------------------------------------------------------------


def test_add_user_with_keys_and_scope(inventory: Store, tmp_path: Path) -> None:
    ed_public, _, ed_fingerprint = _keypair("ssh-ed25519", "alice@laptop")
    rsa_public, _, rsa_fingerprint = _keypair("ssh-rsa", "alice@desktop")
    rsa_file = tmp_path / "id_rsa.pub"
    rsa_file.write_text(rsa_public + "\n")
    with inventory.session() as session:
        add_user(
            session,
            "alice",
            "operator",
            full_name="Alice Liddell",
            email="alice@example.com",
            ssh_keys=[ed_public, str(rsa_file)],
            # by name and by slug
            scope=Scope(locations=["Paris", "berlin"], tenants=["acme"], tags=["Core"], roles=["router"]),
        )
    with inventory.read_session() as session:
        alice = get_user(session, "alice")
        assert alice.role is UserRole.OPERATOR
        assert alice.is_active
        assert (alice.full_name, alice.email) == ("Alice Liddell", "alice@example.com")
        assert [(k.key_type, k.fingerprint, k.comment) for k in alice.ssh_keys] == [
            ("ssh-ed25519", ed_fingerprint, "alice@laptop"),
            ("ssh-rsa", rsa_fingerprint, "alice@desktop"),
        ]
        assert alice.ssh_keys[0].public_key == " ".join(ed_public.split(" ")[:2])
        assert [loc.name for loc in alice.scope_locations] == ["Berlin", "Paris"]
        assert [t.name for t in alice.scope_tenants] == ["Acme"]
        assert [t.name for t in alice.scope_tags] == ["Core"]
        assert [r.name for r in alice.scope_roles] == ["Router"]
        assert [u.username for u in list_users(session)] == ["alice"]


def test_duplicate_key_names_its_owner(store: Store) -> None:
    public, _, fingerprint = _keypair()
    with store.session() as session:
        add_user(session, "alice", "viewer", ssh_keys=[public])
    with pytest.raises(NettuiError, match="already registered to user 'alice'") as info, store.session() as session:
        add_user(session, "bob", "viewer", ssh_keys=[public])
    assert fingerprint in str(info.value)
    assert "nettui users update alice --remove-key" in (info.value.hint or "")
    # The same key with another comment is the same key.
    recommented = " ".join(public.split(" ")[:2]) + " bob@elsewhere"
    with pytest.raises(NettuiError, match="already registered to user 'alice'"), store.session() as session:
        add_user(session, "bob", "viewer", ssh_keys=[recommented])
    with pytest.raises(NettuiError, match="is given twice"), store.session() as session:
        add_user(session, "carol", "viewer", ssh_keys=[_keypair()[0]] * 2)
    with store.read_session() as session:
        assert [u.username for u in list_users(session)] == ["alice"]


def test_duplicate_username(store: Store) -> None:
    with store.session() as session:
        add_user(session, "alice", "viewer")
    with pytest.raises(NettuiError, match="user 'alice' already exists"), store.session() as session:
        add_user(session, "alice", "admin")


def test_scope_must_exist(inventory: Store) -> None:
    with pytest.raises(NotFoundError) as info, inventory.session() as session:
        add_user(
            session,
            "bob",
            "operator",
            scope=Scope(locations=["Paris", "Pariss", "Tokyo"], tags=["Cor"], roles=["router", "firewall"]),
        )
    text = str(info.value)
    assert "location 'Pariss' (did you mean 'Paris'?)" in text
    assert "location 'Tokyo'" in text
    assert "tag 'Cor' (did you mean 'Core'?)" in text
    assert "device role 'firewall'" in text
    assert "'router'" not in text
    assert info.value.hint
    with inventory.read_session() as session:
        assert list_users(session) == []


def test_a_refused_add_or_update_leaves_the_session_untouched(inventory: Store) -> None:
    """Checks run before anything is added, so a caller that catches the error and carries on
    in the same transaction commits nothing half-made."""
    taken = _keypair()[0]
    with inventory.session() as session:
        add_user(session, "alice", "viewer", ssh_keys=[taken])
    with inventory.session() as session:
        with pytest.raises(NotFoundError):
            add_user(session, "bob", "operator", scope=Scope(tags=["Nope"]))
        with pytest.raises(NettuiError, match="already registered"):
            add_user(session, "carol", "operator", ssh_keys=[taken])
        with pytest.raises(NotFoundError):
            update_user(session, "alice", role="admin", add_keys=[_keypair()[0]], scope=Scope(tags=["Nope"]))
    with inventory.read_session() as session:
        assert [(u.username, u.role, len(u.ssh_keys)) for u in list_users(session)] == [("alice", UserRole.VIEWER, 1)]


def test_bad_role_and_email(store: Store) -> None:
    with pytest.raises(NettuiError, match="unknown role 'root'") as info, store.session() as session:
        add_user(session, "bob", "root")
    assert "viewer, operator, approver, admin" in (info.value.hint or "")
    with pytest.raises(NettuiError, match="is not an email address"), store.session() as session:
        add_user(session, "bob", "viewer", email="bob at example")


# -- update and remove ----------------------------------------------------------------------------


def test_update_user(inventory: Store, tmp_path: Path) -> None:
    old_public, _, old_fingerprint = _keypair(comment="old")
    new_public, _, new_fingerprint = _keypair("ssh-rsa", comment="new")
    with inventory.session() as session:
        add_user(session, "alice", "viewer", ssh_keys=[old_public], scope=Scope(tags=["Core"]))
    with inventory.session() as session:
        update_user(
            session,
            "alice",
            role="approver",
            is_active=False,
            email="a@example.com",
            add_keys=[new_public],
            remove_keys=[old_fingerprint],
            scope=Scope(locations=["Europe"]),
        )
    with inventory.read_session() as session:
        alice = get_user(session, "alice")
        assert (alice.role, alice.is_active, alice.email) == (UserRole.APPROVER, False, "a@example.com")
        assert [k.fingerprint for k in alice.ssh_keys] == [new_fingerprint]
        assert [loc.name for loc in alice.scope_locations] == ["Europe"]
        assert alice.scope_tags == []
    # Remove by key text, re-add the same key in one go, and clear the scope.
    with inventory.session() as session:
        update_user(session, "alice", remove_keys=[new_public], add_keys=[new_public], scope=Scope())
    with inventory.read_session() as session:
        alice = get_user(session, "alice")
        assert [k.fingerprint for k in alice.ssh_keys] == [new_fingerprint]
        assert alice.scope_locations == []
    with pytest.raises(NotFoundError, match="has no SSH key"), inventory.session() as session:
        update_user(session, "alice", remove_keys=[old_fingerprint])


def test_remove_user(store: Store) -> None:
    with store.session() as session:
        add_user(session, "alice", "viewer", ssh_keys=[_keypair()[0]])
        bob = add_user(session, "bob", "operator")
        device = Device(name="sw1", host="192.0.2.1")
        session.add(device)
        session.flush()
        session.add(SessionRecord(device_id=device.id, user_id=bob.id))
    with store.session() as session:
        remove_user(session, "alice")
    with pytest.raises(NettuiError, match="1 bastion session") as info, store.session() as session:
        remove_user(session, "bob")
    assert "--inactive" in (info.value.hint or "")
    with pytest.raises(NotFoundError, match="no user 'alice'"), store.session() as session:
        remove_user(session, "alice")
    with store.read_session() as session:
        assert [u.username for u in list_users(session)] == ["bob"]


def test_unknown_user_suggests_close_names(store: Store) -> None:
    with store.session() as session:
        add_user(session, "alice", "viewer")
    with store.read_session() as session, pytest.raises(NotFoundError) as info:
        get_user(session, "alcie")
    assert "did you mean 'alice'?" in (info.value.hint or "")


# -- device_in_scope ------------------------------------------------------------------------------


def _device(
    session: Any, name: str, location: str | None, tenant: str | None, role: str | None, tags: list[str]
) -> None:
    def one(model: Any, value: str | None) -> Any:
        return session.query(model).filter_by(name=value).one() if value else None

    session.add(
        Device(
            name=name,
            host=f"{name}.example.net",
            location=one(Location, location),
            tenant=one(Tenant, tenant),
            role=one(DeviceRole, role),
            tags=[one(Tag, t) for t in tags],
        )
    )


def test_device_in_scope(inventory: Store) -> None:
    with inventory.session() as session:
        _device(session, "par-core", "Paris", "Acme", "Router", ["Core"])
        _device(session, "par-acc", "Paris", "Acme", "Access Switch", ["Edge", "Lab"])
        _device(session, "ber-core", "Berlin", "Globex", "Router", ["Core", "Lab"])
        _device(session, "nyc-core", "New York", "Acme", "Router", ["Core"])
        _device(session, "floating", None, None, None, [])
        users = {
            "everyone": ("operator", Scope()),
            "admin": ("admin", Scope(locations=["New York"])),
            "europe": ("operator", Scope(locations=["Europe"])),
            "paris": ("operator", Scope(locations=["Paris"])),
            "acme": ("viewer", Scope(tenants=["Acme"])),
            "labs": ("viewer", Scope(tags=["Lab", "Edge"])),
            "routers": ("viewer", Scope(roles=["Router"])),
            "eu-core-routers": ("operator", Scope(locations=["Europe"], tags=["Core"], roles=["Router"])),
            "acme-paris": ("operator", Scope(locations=["Paris"], tenants=["Acme"])),
        }
        for username, (role, scope) in users.items():
            add_user(session, username, role, scope=scope)
        add_user(session, "gone", "operator")
        get_user(session, "gone").is_active = False

    with inventory.read_session() as session:
        devices = {d.name: d for d in session.query(Device).all()}

        def visible(username: str) -> set[str]:
            user = get_user(session, username)
            return {name for name, device in devices.items() if device_in_scope(user, device)}

        everything = set(devices)
        assert visible("everyone") == everything
        assert visible("admin") == everything  # admins see everything, whatever their scope
        assert visible("gone") == set()  # an inactive user sees nothing
        assert visible("europe") == {"par-core", "par-acc", "ber-core"}  # a region covers its sites
        assert visible("paris") == {"par-core", "par-acc"}
        assert visible("acme") == {"par-core", "par-acc", "nyc-core"}
        assert visible("labs") == {"par-acc", "ber-core"}  # any tag in common
        assert visible("routers") == {"par-core", "ber-core", "nyc-core"}
        assert visible("eu-core-routers") == {"par-core", "ber-core"}  # every dimension must match
        assert visible("acme-paris") == {"par-core", "par-acc"}


# -- the CLI --------------------------------------------------------------------------------------


def test_cli_add_list_show(inventory: Store, tmp_path: Path) -> None:
    ed_public, _, ed_fingerprint = _keypair("ssh-ed25519", "alice@laptop")
    rsa_public, _, rsa_fingerprint = _keypair("ssh-rsa", "alice@desktop")
    key_file = tmp_path / "id_rsa.pub"
    key_file.write_text(rsa_public + "\n")
    result = run_cli(
        inventory, "users", "add", "alice", "--role", "operator", "--full-name", "Alice Liddell",
        "--email", "alice@example.com", "--ssh-key", ed_public, "--ssh-key", str(key_file),
        "--scope-location", "Paris", "--scope-tag", "core",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "user 'alice' added: role operator, 2 SSH key(s)" in result.stderr
    assert run_cli(inventory, "users", "add", "bob", "--role", "admin").exit_code == 0

    listed = json.loads(run_cli(inventory, "users", "list", "--json").stdout)
    assert [(u["username"], u["role"], len(u["ssh_keys"])) for u in listed] == [
        ("alice", "operator", 2),
        ("bob", "admin", 0),
    ]
    table = run_cli(inventory, "users", "list").stdout
    assert "locations=Paris tags=Core" in table
    assert "all devices" in table

    shown = json.loads(run_cli(inventory, "users", "show", "alice", "--json").stdout)
    assert shown["full_name"] == "Alice Liddell"
    assert shown["scope"] == {"locations": ["Paris"], "tenants": [], "tags": ["Core"], "roles": []}
    assert [k["fingerprint"] for k in shown["ssh_keys"]] == [ed_fingerprint, rsa_fingerprint]
    text = run_cli(inventory, "users", "show", "alice").stdout
    assert ed_fingerprint in text
    assert "comment=alice@laptop" in text


def test_cli_errors(inventory: Store, tmp_path: Path) -> None:
    public, private, _ = _keypair()
    assert run_cli(inventory, "users", "add", "alice", "--role", "viewer", "--ssh-key", public).exit_code == 0

    duplicate = run_cli(inventory, "users", "add", "bob", "--role", "viewer", "--ssh-key", public)
    assert duplicate.exit_code == 1
    assert "already registered to user 'alice'" in duplicate.stderr

    private_file = tmp_path / "id_ed25519"
    private_file.write_text(private)
    leaked = run_cli(inventory, "users", "add", "bob", "--role", "viewer", "--ssh-key", str(private_file))
    assert leaked.exit_code == 1
    assert "this is a private key" in leaked.stderr
    assert private.splitlines()[1] not in leaked.stdout + leaked.stderr

    bad_key = run_cli(inventory, "users", "add", "bob", "--role", "viewer", "--ssh-key", "ssh-ed25519 AAAAjunk")
    assert bad_key.exit_code == 1
    assert "not a valid OpenSSH public key" in bad_key.stderr

    bad_name = run_cli(inventory, "users", "add", "bob%sw1", "--role", "viewer")
    assert bad_name.exit_code == 1
    assert "USER%DEVICE@HOST" in bad_name.stderr

    bad_scope = run_cli(inventory, "users", "add", "bob", "--role", "viewer", "--scope-tenant", "Initech")
    assert bad_scope.exit_code == 1
    assert "tenant 'Initech'" in bad_scope.stderr

    bad_role = run_cli(inventory, "users", "add", "bob", "--role", "root")
    assert bad_role.exit_code == 2  # click's usage error lists the roles
    assert "viewer" in bad_role.stderr

    missing = run_cli(inventory, "users", "show", "alcie")
    assert missing.exit_code == 1
    assert "did you mean 'alice'?" in missing.stderr

    with inventory.read_session() as session:
        assert [u.username for u in list_users(session)] == ["alice"]


def test_cli_update_and_remove(inventory: Store) -> None:
    public, _, fingerprint = _keypair()
    assert run_cli(inventory, "users", "add", "alice", "--role", "viewer", "--scope-tag", "Lab").exit_code == 0
    result = run_cli(
        inventory, "users", "update", "alice", "--role", "approver", "--inactive", "--add-key", public,
        "--scope-role", "Router",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    shown = json.loads(run_cli(inventory, "users", "show", "alice", "--json").stdout)
    assert (shown["role"], shown["is_active"]) == ("approver", False)
    assert shown["scope"] == {"locations": [], "tenants": [], "tags": [], "roles": ["Router"]}
    assert [k["fingerprint"] for k in shown["ssh_keys"]] == [fingerprint]

    result = run_cli(inventory, "users", "update", "alice", "--active", "--remove-key", fingerprint, "--clear-scope")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(run_cli(inventory, "users", "show", "alice", "--json").stdout)
    assert shown["is_active"] is True
    assert shown["ssh_keys"] == []
    assert shown["scope"] == {"locations": [], "tenants": [], "tags": [], "roles": []}

    assert run_cli(inventory, "users", "update", "alice", "--clear-scope", "--scope-tag", "Lab").exit_code == 2
    assert run_cli(inventory, "users", "remove", "alice").exit_code == 2  # needs --yes
    assert run_cli(inventory, "users", "remove", "alice", "--yes").exit_code == 0
    with inventory.read_session() as session:
        assert session.query(User).count() == 0
