"""`nettui users`: who may use nettui and the bastion, their SSH keys, role and device scope."""

from __future__ import annotations

from typing import Any

import click

from catalog.models.choices import UserRole
from catalog.users import Scope, add_user, get_user, list_users, remove_user, update_user, user_record
from nettui.cli import AppContext, pass_app
from nettui.cli.output import emit_json, emit_record, emit_table, progress

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
_ROLES = click.Choice([r.value for r in UserRole])


def _scope_options(func: Any) -> Any:
    """--scope-location/-tenant/-tag/-role, each repeatable, naming inventory objects."""
    for dimension, what in reversed(
        [("location", "a location"), ("tenant", "a tenant"), ("tag", "a tag"), ("role", "a device role")]
    ):
        func = click.option(
            f"--scope-{dimension}",
            f"scope_{dimension}s",
            multiple=True,
            metavar="NAME",
            help=f"Limit the user to devices of {what} (name or slug; repeatable).",
        )(func)
    return func


def _scope(
    locations: tuple[str, ...], tenants: tuple[str, ...], tags: tuple[str, ...], roles: tuple[str, ...]
) -> Scope:
    return Scope(locations=locations, tenants=tenants, tags=tags, roles=roles)


def _describe_scope(scope: dict[str, list[str]]) -> str:
    parts = [f"{dim}={','.join(names)}" for dim, names in scope.items() if names]
    return " ".join(parts) if parts else "all devices"


@click.group(name="users")
def group() -> None:
    """Users: roles, SSH keys for the bastion, and which devices each one may touch."""


@group.command()
@click.argument("username")
@click.option("--role", type=_ROLES, required=True, help="What the user may do.")
@click.option("--full-name", default="", help="The person's name.")
@click.option("--email", default="", help="Where notifications go.")
@click.option(
    "--ssh-key",
    "ssh_keys",
    multiple=True,
    metavar="FILE_OR_KEY",
    help="A .pub file or the key line 'ssh-ed25519 AAAA... comment' (repeatable).",
)
@_scope_options
@pass_app
def add(
    app: AppContext,
    username: str,
    role: str,
    full_name: str,
    email: str,
    ssh_keys: tuple[str, ...],
    scope_locations: tuple[str, ...],
    scope_tenants: tuple[str, ...],
    scope_tags: tuple[str, ...],
    scope_roles: tuple[str, ...],
) -> None:
    """Create user USERNAME (lowercase letters, digits, '.', '-', '_'; starts with a letter).

    Without any --scope-* option the user may act on every device.
    """
    with app.store().session() as session:
        user = add_user(
            session,
            username,
            role,
            full_name=full_name,
            email=email,
            ssh_keys=ssh_keys,
            scope=_scope(scope_locations, scope_tenants, scope_tags, scope_roles),
        )
        record = user_record(user)
    progress(
        f"user {username!r} added: role {record['role']}, {len(record['ssh_keys'])} SSH key(s), "
        f"scope {_describe_scope(record['scope'])}"
    )


@group.command(name="list")
@_JSON
@pass_app
def list_(app: AppContext, as_json: bool) -> None:
    """List users."""
    with app.store().read_session() as session:
        records = [user_record(u) for u in list_users(session)]
    if as_json:
        emit_json(records)
        return
    rows = [
        {
            "username": r["username"],
            "role": r["role"],
            "active": "yes" if r["is_active"] else "no",
            "full_name": r["full_name"],
            "keys": len(r["ssh_keys"]),
            "scope": _describe_scope(r["scope"]),
        }
        for r in records
    ]
    emit_table(
        rows,
        [
            ("username", "USERNAME"),
            ("role", "ROLE"),
            ("active", "ACTIVE"),
            ("full_name", "NAME"),
            ("keys", "KEYS"),
            ("scope", "SCOPE"),
        ],
    )


@group.command()
@click.argument("username")
@_JSON
@pass_app
def show(app: AppContext, username: str, as_json: bool) -> None:
    """Show a user with their SSH keys and scope."""
    with app.store().read_session() as session:
        record = user_record(get_user(session, username))
    if as_json:
        emit_json(record)
        return
    keys = record.pop("ssh_keys")
    scope = record.pop("scope")
    record["scope"] = _describe_scope(scope)
    record["ssh_keys"] = [
        {"type": k["key_type"], "fingerprint": k["fingerprint"], "comment": k["comment"]} for k in keys
    ]
    emit_record(record)


@group.command()
@click.argument("username")
@click.option("--role", type=_ROLES, help="Change the role.")
@click.option("--active/--inactive", "is_active", default=None, help="Allow or block the user's logins.")
@click.option("--full-name", help="Change the person's name.")
@click.option("--email", help="Change the email address.")
@click.option("--add-key", "add_keys", multiple=True, metavar="FILE_OR_KEY", help="Add an SSH key (repeatable).")
@click.option(
    "--remove-key",
    "remove_keys",
    multiple=True,
    metavar="FINGERPRINT_OR_KEY",
    help="Remove an SSH key, by SHA256:... fingerprint, .pub file or key line (repeatable).",
)
@_scope_options
@click.option("--clear-scope", is_flag=True, help="Remove every scope limit (the user may act on all devices).")
@pass_app
def update(
    app: AppContext,
    username: str,
    role: str | None,
    is_active: bool | None,
    full_name: str | None,
    email: str | None,
    add_keys: tuple[str, ...],
    remove_keys: tuple[str, ...],
    scope_locations: tuple[str, ...],
    scope_tenants: tuple[str, ...],
    scope_tags: tuple[str, ...],
    scope_roles: tuple[str, ...],
    clear_scope: bool,
) -> None:
    """Change a user. Any --scope-* option replaces the whole scope with the ones given."""
    new_scope = _scope(scope_locations, scope_tenants, scope_tags, scope_roles)
    if clear_scope and new_scope:
        raise click.UsageError("--clear-scope cannot be combined with --scope-* options")
    scope = Scope() if clear_scope else (new_scope if new_scope else None)
    with app.store().session() as session:
        user = update_user(
            session,
            username,
            role=role,
            is_active=is_active,
            full_name=full_name,
            email=email,
            add_keys=add_keys,
            remove_keys=remove_keys,
            scope=scope,
        )
        record = user_record(user)
    progress(
        f"user {username!r} updated: role {record['role']}, {'active' if record['is_active'] else 'inactive'}, "
        f"{len(record['ssh_keys'])} SSH key(s), scope {_describe_scope(record['scope'])}"
    )


@group.command()
@click.argument("username")
@click.option("--yes", is_flag=True, help="Confirm the deletion.")
@pass_app
def remove(app: AppContext, username: str, yes: bool) -> None:
    """Delete a user and their keys (refused once they appear in the audit trail)."""
    if not yes:
        raise click.UsageError("pass --yes to delete the user")
    with app.store().session() as session:
        remove_user(session, username)
    progress(f"user {username!r} removed")
