"""Users: who may use nettui, with which SSH keys, and which devices they may touch.

Usernames double as bastion login names. The bastion reads ``user%device@host``, so ``%`` and
``@`` can never be part of a username; nettui goes further and allows only lowercase letters,
digits, ``.``, ``-`` and ``_``, starting with a letter, like most Unix systems.

A user's scope limits the devices they see: an empty scope means every device; otherwise a
device must match every non-empty scope dimension (location, tenant, tag, role).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from catalog.errors import NettuiError, NotFoundError
from catalog.models import Device, DeviceRole, Location, SshPublicKey, Tag, Tenant, User
from catalog.models.choices import UserRole

USERNAME_MAX = 64
_USERNAME = re.compile(rf"[a-z][a-z0-9._-]{{0,{USERNAME_MAX - 1}}}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Key types OpenSSH itself has dropped: accepting them would only defer the failure to login.
_REFUSED_KEY_TYPES = {"ssh-dss": "DSA keys are disabled in OpenSSH; use ssh-keygen -t ed25519"}
_KEY_HINT = "give the path to a .pub file, or the key line itself: 'ssh-ed25519 AAAA... comment'"


# -- usernames ------------------------------------------------------------------------------------


def validate_username(username: str) -> str:
    """Return ``username`` if it is a valid nettui (and bastion) login name, else raise."""
    where = f"username {username!r}"
    if "%" in username or "@" in username:
        raise NettuiError(
            "'%' and '@' cannot be part of a username",
            where=where,
            hint="the bastion reads logins as USER%DEVICE@HOST, so these characters separate names",
        )
    if not _USERNAME.fullmatch(username):
        lowered = re.sub(r"[^a-z0-9._-]", "", username.lower())
        suggestion = f"; e.g. {lowered!r}" if lowered and _USERNAME.fullmatch(lowered) else ""
        raise NettuiError(
            "invalid username",
            where=where,
            hint=f"start with a lowercase letter, then lowercase letters, digits, '.', '-' or '_' "
            f"(at most {USERNAME_MAX} characters){suggestion}",
        )
    return username


def validate_email(email: str) -> str:
    """An empty string or something shaped like an address (delivery is not our business)."""
    if email and not _EMAIL.fullmatch(email):
        raise NettuiError(f"{email!r} is not an email address", hint="e.g. alice@example.com")
    return email


# -- SSH public keys ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedKey:
    """An OpenSSH public key, split the way the store keeps it."""

    key_type: str
    public_key: str  # "TYPE BASE64", without comment
    comment: str
    fingerprint: str  # "SHA256:...", as ssh-keygen -l prints it


def _looks_like_key_text(value: str) -> bool:
    text = value.strip()
    return (
        "\n" in text
        or text.startswith(("ssh-", "ecdsa-", "sk-", "---- BEGIN", "-----BEGIN"))
        or (" " in text and "AAAA" in text)
    )


def parse_ssh_key(value: str) -> ParsedKey:
    """Parse a public key given as key text (``ssh-ed25519 AAAA... comment``) or as the path of
    a ``.pub`` file, and validate it with asyncssh."""
    if _looks_like_key_text(value):
        text, where = value.strip(), "SSH key"
    else:
        path = Path(value).expanduser()
        where = f"SSH key file {path}"
        try:
            text = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise NettuiError(
                "no such file (and the value is not a public key either)", where=where, hint=_KEY_HINT
            ) from None
        except UnicodeDecodeError:
            raise NettuiError("not a text file, so not an OpenSSH public key", where=where, hint=_KEY_HINT) from None
        except OSError as exc:
            raise NettuiError(f"cannot read: {exc.strerror}", where=where, hint=_KEY_HINT) from None
    if "PRIVATE KEY" in text:
        # asyncssh happily derives a public key from a private one; a private key pasted
        # here is a mistake, and must not travel any further.
        raise NettuiError(
            "this is a private key; nettui needs the public key",
            where=where,
            hint="give the matching .pub file (e.g. ~/.ssh/id_ed25519.pub); the private key never leaves your machine",
        )
    if len(text.splitlines()) > 1 and not text.startswith("---- BEGIN"):
        raise NettuiError("expected one public key, found several lines", where=where, hint=_KEY_HINT)

    import asyncssh  # slow to import: only when a key is actually parsed

    try:
        key = asyncssh.import_public_key(text)
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise NettuiError(f"not a valid OpenSSH public key ({exc})", where=where, hint=_KEY_HINT) from None
    key_type: str = key.get_algorithm()
    if key_type in _REFUSED_KEY_TYPES:
        raise NettuiError(f"{key_type} keys are not accepted", where=where, hint=_REFUSED_KEY_TYPES[key_type])
    comment = key.get_comment() or ""
    key.set_comment(None)
    public_key = key.export_public_key("openssh").decode("ascii").strip()
    return ParsedKey(key_type, public_key, comment, key.get_fingerprint("sha256"))


def _check_keys_free(
    session: Session, username: str, keys: Sequence[ParsedKey], *, releasing: Iterable[str] = ()
) -> None:
    """Refuse keys given twice or already registered (``releasing``: fingerprints this same
    change removes from ``username``, so a key can be removed and re-added in one go)."""
    seen: set[str] = set()
    for key in keys:
        if key.fingerprint in seen:
            raise NettuiError(f"SSH key {key.fingerprint} is given twice", where=f"user {username!r}")
        seen.add(key.fingerprint)
    if not seen:
        return
    released = set(releasing)
    owners = session.execute(
        select(SshPublicKey.fingerprint, User.username)
        .join(User, SshPublicKey.user_id == User.id)
        .where(SshPublicKey.fingerprint.in_(seen))
        .order_by(SshPublicKey.fingerprint)
    ).all()
    for fingerprint, owner in owners:
        if owner == username and fingerprint in released:
            continue
        raise NettuiError(
            f"SSH key {fingerprint} is already registered to user {owner!r}",
            where=f"user {username!r}",
            hint="this user already has it"
            if owner == username
            else "a key identifies one person; remove it from that user first "
            f"(`nettui users update {owner} --remove-key {fingerprint}`) or use another key",
        )


def _key_row(key: ParsedKey) -> SshPublicKey:
    return SshPublicKey(
        key_type=key.key_type, public_key=key.public_key, comment=key.comment, fingerprint=key.fingerprint
    )


# -- scope ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Names (or slugs) of the inventory objects a user is limited to; all empty = everything."""

    locations: Sequence[str] = field(default_factory=tuple)
    tenants: Sequence[str] = field(default_factory=tuple)
    tags: Sequence[str] = field(default_factory=tuple)
    roles: Sequence[str] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return bool(self.locations or self.tenants or self.tags or self.roles)


_Named = TypeVar("_Named", Location, Tenant, Tag, DeviceRole)


def _lookup(
    session: Session, model: type[_Named], label: str, names: Sequence[str], missing: list[str]
) -> list[_Named]:
    """Objects by name or slug, in the order given; names that match nothing go to ``missing``."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return []
    found = list(session.scalars(select(model).where(or_(model.name.in_(wanted), model.slug.in_(wanted)))))
    # Names first, so a name wins over another object's identical slug.
    by_key: dict[str, _Named] = {obj.name: obj for obj in found}
    for obj in found:
        by_key.setdefault(obj.slug, obj)
    result: list[_Named] = []
    known: list[str] | None = None
    for name in wanted:
        match = by_key.get(name)
        if match is None:
            if known is None:
                known = list(session.scalars(select(model.name)))
            close = difflib.get_close_matches(name, known, n=1)
            missing.append(f"{label} {name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        elif match not in result:
            result.append(match)
    return result


def _resolve_scope(session: Session, scope: Scope) -> tuple[list[Location], list[Tenant], list[Tag], list[DeviceRole]]:
    missing: list[str] = []
    resolved = (
        _lookup(session, Location, "location", scope.locations, missing),
        _lookup(session, Tenant, "tenant", scope.tenants, missing),
        _lookup(session, Tag, "tag", scope.tags, missing),
        _lookup(session, DeviceRole, "device role", scope.roles, missing),
    )
    if missing:
        raise NotFoundError(
            f"the scope names objects that do not exist: {'; '.join(missing)}",
            hint="check the spelling (names or slugs), or create them in the inventory first (`nettui inventory`)",
        )
    return resolved


def device_in_scope(user: User, device: Device) -> bool:
    """Whether ``user`` may see and act on ``device``.

    Admins see every device and inactive users none. An empty scope is every device; otherwise
    the device must match every non-empty dimension: its location (or one of its parent
    locations, so a region covers its sites) is in the scope's locations, its tenant in the
    tenants, its role in the roles, and at least one of its tags in the tags.
    """
    if not user.is_active:
        return False
    if user.role is UserRole.ADMIN:
        return True
    if user.scope_locations:
        allowed = {loc.id for loc in user.scope_locations}
        location, hops = device.location, 0
        # ``hops`` guards against a (forbidden but possible) cycle of parents.
        while location is not None and location.id not in allowed and hops < 64:
            location, hops = location.parent, hops + 1
        if location is None or location.id not in allowed:
            return False
    if user.scope_tenants and device.tenant_id not in {t.id for t in user.scope_tenants}:
        return False
    if user.scope_roles and device.role_id not in {r.id for r in user.scope_roles}:
        return False
    return not (user.scope_tags and not {t.id for t in user.scope_tags} & {t.id for t in device.tags})


# -- the store ------------------------------------------------------------------------------------


def _user_query() -> Select[User]:
    return select(User).options(
        selectinload(User.ssh_keys),
        selectinload(User.scope_locations),
        selectinload(User.scope_tenants),
        selectinload(User.scope_tags),
        selectinload(User.scope_roles),
    )


def find_user(session: Session, username: str) -> User | None:
    """The user called ``username``, or None."""
    return session.scalars(_user_query().where(User.username == username)).one_or_none()


def get_user(session: Session, username: str) -> User:
    """The user called ``username``; NotFoundError (suggesting close names) if there is none."""
    user = find_user(session, username)
    if user is None:
        names = list(session.scalars(select(User.username)))
        close = difflib.get_close_matches(username, names, n=3)
        hint = (
            "did you mean " + " or ".join(repr(c) for c in close) + "?"
            if close
            else "see `nettui users list`, or create it with `nettui users add`"
        )
        raise NotFoundError(f"no user {username!r}", hint=hint)
    return user


def list_users(session: Session) -> list[User]:
    """Every user, by username, with keys and scope loaded."""
    return list(session.scalars(_user_query().order_by(User.username)))


def parse_role(role: str | UserRole) -> UserRole:
    """A role from its name, with the valid names in the error."""
    try:
        return UserRole(role)
    except ValueError:
        raise NettuiError(
            f"unknown role {role!r}", hint=f"choose one of {', '.join(r.value for r in UserRole)}"
        ) from None


def add_user(
    session: Session,
    username: str,
    role: str | UserRole,
    *,
    full_name: str = "",
    email: str = "",
    ssh_keys: Iterable[str] = (),
    scope: Scope | None = None,
) -> User:
    """Create a user. Keys are paths or key text; scope names must exist.

    Everything is checked before anything is added to the session, so a refusal leaves the
    session as it was.
    """
    validate_username(username)
    parsed_role = parse_role(role)
    validate_email(email)
    keys = [parse_ssh_key(k) for k in ssh_keys]
    if find_user(session, username) is not None:
        raise NettuiError(
            f"user {username!r} already exists", hint=f"change it with `nettui users update {username} ...`"
        )
    locations, tenants, tags, roles = _resolve_scope(session, scope or Scope())
    _check_keys_free(session, username, keys)
    user = User(
        username=username,
        role=parsed_role,
        full_name=full_name,
        email=email,
        is_active=True,
        ssh_keys=[_key_row(k) for k in keys],
        scope_locations=locations,
        scope_tenants=tenants,
        scope_tags=tags,
        scope_roles=roles,
    )
    session.add(user)
    session.flush()
    return user


def update_user(
    session: Session,
    username: str,
    *,
    role: str | UserRole | None = None,
    is_active: bool | None = None,
    full_name: str | None = None,
    email: str | None = None,
    add_keys: Iterable[str] = (),
    remove_keys: Iterable[str] = (),
    scope: Scope | None = None,
) -> User:
    """Change a user. ``remove_keys`` are fingerprints, key text or .pub paths; ``scope``
    (when given) replaces the whole scope. Everything is checked before anything changes."""
    user = get_user(session, username)
    new_role = parse_role(role) if role is not None else None
    if email is not None:
        validate_email(email)
    to_add = [parse_ssh_key(k) for k in add_keys]
    to_remove: list[SshPublicKey] = []
    for item in remove_keys:
        fingerprint = item if item.startswith("SHA256:") else parse_ssh_key(item).fingerprint
        match = next((k for k in user.ssh_keys if k.fingerprint == fingerprint), None)
        if match is None:
            have = ", ".join(k.fingerprint for k in user.ssh_keys) or "none"
            raise NotFoundError(
                f"user has no SSH key {fingerprint}", where=f"user {username!r}", hint=f"their keys: {have}"
            )
        if match not in to_remove:
            to_remove.append(match)
    _check_keys_free(session, username, to_add, releasing=[k.fingerprint for k in to_remove])
    new_scope = _resolve_scope(session, scope) if scope is not None else None

    if new_role is not None:
        user.role = new_role
    if is_active is not None:
        user.is_active = is_active
    if full_name is not None:
        user.full_name = full_name
    if email is not None:
        user.email = email
    for key in to_remove:
        user.ssh_keys.remove(key)
    if to_remove:
        # The unique fingerprint must be gone before the same key can be inserted again.
        session.flush()
    user.ssh_keys.extend(_key_row(k) for k in to_add)
    if new_scope is not None:
        user.scope_locations, user.scope_tenants, user.scope_tags, user.scope_roles = new_scope
    session.flush()
    return user


def remove_user(session: Session, username: str) -> None:
    """Delete a user with their keys and scope; refused while the audit trail (executions,
    bastion sessions) points at them, since that history must keep saying who did what."""
    from catalog.models import Execution, SessionRecord

    user = get_user(session, username)
    executions = session.scalar(
        select(func.count())
        .select_from(Execution)
        .where(or_(Execution.requested_by_id == user.id, Execution.approved_by_id == user.id))
    )
    sessions = session.scalar(select(func.count()).select_from(SessionRecord).where(SessionRecord.user_id == user.id))
    if executions or sessions:
        raise NettuiError(
            f"user has {executions} execution(s) and {sessions} bastion session(s) on record",
            where=f"user {username!r}",
            hint=f"the audit trail must keep them; deactivate instead: `nettui users update {username} --inactive`",
        )
    session.delete(user)
    session.flush()


def scope_record(user: User) -> dict[str, list[str]]:
    """The user's scope as names per dimension."""
    return {
        "locations": [o.name for o in user.scope_locations],
        "tenants": [o.name for o in user.scope_tenants],
        "tags": [o.name for o in user.scope_tags],
        "roles": [o.name for o in user.scope_roles],
    }


def user_record(user: User, *, with_keys: bool = True) -> dict[str, Any]:
    """A JSON-ready description of a user."""
    record: dict[str, Any] = {
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "role": user.role.value,
        "is_active": user.is_active,
        "scope": scope_record(user),
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }
    if with_keys:
        record["ssh_keys"] = [
            {"key_type": k.key_type, "fingerprint": k.fingerprint, "comment": k.comment, "public_key": k.public_key}
            for k in user.ssh_keys
        ]
    return record
