"""Session records and refusals in the store: what the bastion writes, and what the CLI (and
later the TUI) read and change. The bastion and the CLI are different processes, so a
termination travels through the store: the CLI sets the status, the bastion notices."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from catalog import models as m
from catalog.errors import NettuiError, NotFoundError
from catalog.models.choices import SessionStatus, SessionType, UserRole
from catalog.secrets import Secret, SecretResolutionError, resolve_entry
from catalog.store import Store
from catalog.users import device_in_scope, find_user


@dataclass(frozen=True)
class Login:
    """A user as the bastion needs them at login: keys, and whether they may reach a device."""

    username: str
    user_id: int
    active: bool
    public_keys: frozenset[str]  # "ssh-ed25519 AAAA..."
    device: str | None  # the device asked for (USER%DEVICE), if any
    device_allowed: bool  # the device exists and is inside the user's scope
    totp_required: bool = False  # a second factor is configured for the user
    totp_seed: Secret | None = field(default=None, repr=False)  # None when required but unreadable


def load_login(store: Store, username: str, device: str | None) -> Login | None:
    """The user ``username`` with their keys, and whether ``device`` is theirs to reach."""
    with store.read_session() as session:
        user = find_user(session, username)
        if user is None:
            return None
        allowed = False
        if device is not None:
            row = session.scalars(
                select(m.Device)
                .where(m.Device.name == device)
                .options(selectinload(m.Device.tags), selectinload(m.Device.location))
            ).one_or_none()
            allowed = row is not None and device_in_scope(user, row)
        factor = session.scalars(
            select(m.BastionSecondFactor)
            .where(m.BastionSecondFactor.user_id == user.id)
            .options(selectinload(m.BastionSecondFactor.secrets_group).selectinload(m.SecretsGroup.entries))
        ).one_or_none()
        seed = _totp_seed(factor) if factor is not None else None
        return Login(
            username=user.username,
            user_id=user.id,
            active=user.is_active,
            public_keys=frozenset(k.public_key for k in user.ssh_keys),
            device=device,
            device_allowed=allowed,
            totp_required=factor is not None,
            totp_seed=seed,
        )


def _totp_seed(factor: m.BastionSecondFactor) -> Secret | None:
    """The user's TOTP seed, or None if it cannot be read now (the login is then refused)."""
    entry = next((e for e in factor.secrets_group.entries if e.name == factor.entry), None)
    if entry is None:
        return None
    try:
        return resolve_entry(entry)
    except SecretResolutionError:
        return None


def set_second_factor(store: Store, username: str, secrets_group: str | None, entry: str = "totp") -> None:
    """Require a TOTP code from ``username`` at the bastion, its seed in ``secrets_group``'s
    ``entry``; ``secrets_group`` None removes the requirement."""
    from catalog.users import get_user

    with store.session() as session:
        user = get_user(session, username)
        factor = session.scalars(
            select(m.BastionSecondFactor).where(m.BastionSecondFactor.user_id == user.id)
        ).one_or_none()
        if secrets_group is None:
            if factor is not None:
                session.delete(factor)
            return
        group = session.scalars(
            select(m.SecretsGroup)
            .where(m.SecretsGroup.name == secrets_group)
            .options(selectinload(m.SecretsGroup.entries))
        ).one_or_none()
        if group is None:
            raise NotFoundError(f"no secrets group {secrets_group!r}", hint="`nettui secrets list` lists them")
        if entry not in {e.name for e in group.entries}:
            raise NettuiError(
                f"secrets group {secrets_group!r} has no entry {entry!r}",
                hint=f"add one holding the base32 seed: nettui secrets set {secrets_group} {entry}=env:VARIABLE",
            )
        if factor is None:
            factor = m.BastionSecondFactor(user_id=user.id, secrets_group_id=group.id, entry=entry)
            session.add(factor)
        factor.secrets_group_id, factor.entry = group.id, entry


def audit_refusal(store: Store, *, username: str, device: str, source: str, reason: str) -> None:
    """Record one refusal (a BastionEvent)."""
    with store.session() as session:
        session.add(
            m.BastionEvent(event="refused", username=username[:150], device=device[:255], source=source, reason=reason)
        )


def open_record(store: Store, *, username: str, device: str) -> int:
    """A new active SessionRecord; its id."""
    with store.session() as session:
        user_id = session.scalars(select(m.User.id).where(m.User.username == username)).one()
        device_id = session.scalars(select(m.Device.id).where(m.Device.name == device)).one()
        record = m.SessionRecord(user_id=user_id, device_id=device_id, session_type=SessionType.SSH)
        session.add(record)
        session.flush()
        return record.id


def save_records(store: Store, updates: dict[int, dict[str, Any]]) -> None:
    """Write the progress of several sessions in one transaction."""
    if not updates:
        return
    with store.session() as session:
        for record_id, values in updates.items():
            session.execute(update(m.SessionRecord).where(m.SessionRecord.id == record_id).values(**values))


def terminated_among(store: Store, record_ids: list[int]) -> set[int]:
    """Which of these sessions someone marked terminated."""
    if not record_ids:
        return set()
    with store.read_session() as session:
        return set(
            session.scalars(
                select(m.SessionRecord.id).where(
                    m.SessionRecord.id.in_(record_ids), m.SessionRecord.status == SessionStatus.TERMINATED
                )
            )
        )


def finish_record(store: Store, record_id: int, values: dict[str, Any], *, status: SessionStatus) -> None:
    """The last write of a session: its end, and ``status`` unless it was terminated already."""
    with store.session() as session:
        session.execute(update(m.SessionRecord).where(m.SessionRecord.id == record_id).values(**values))
        session.execute(
            update(m.SessionRecord)
            .where(m.SessionRecord.id == record_id, m.SessionRecord.status == SessionStatus.ACTIVE)
            .values(status=status)
        )
        session.execute(
            update(m.SessionRecord)
            .where(m.SessionRecord.id == record_id, m.SessionRecord.session_end.is_(None))
            .values(session_end=datetime.now(UTC))
        )


# -- what the CLI asks ----------------------------------------------------------------------------


def list_sessions(store: Store, *, active_only: bool = False, limit: int = 200) -> list[dict[str, Any]]:
    """The latest sessions, newest first, as records for output."""
    with store.read_session() as session:
        query = (
            select(m.SessionRecord)
            .options(selectinload(m.SessionRecord.user), selectinload(m.SessionRecord.device))
            .order_by(m.SessionRecord.id.desc())
            .limit(limit)
        )
        if active_only:
            query = query.where(m.SessionRecord.status == SessionStatus.ACTIVE)
        return [session_summary(r) for r in session.scalars(query)]


def get_session(store: Store, record_id: int) -> dict[str, Any]:
    """One session with its commands and log; NotFoundError if there is none."""
    with store.read_session() as session:
        record = session.scalars(
            select(m.SessionRecord)
            .where(m.SessionRecord.id == record_id)
            .options(selectinload(m.SessionRecord.user), selectinload(m.SessionRecord.device))
        ).one_or_none()
        if record is None:
            raise NotFoundError(f"no session {record_id}", hint="`nettui sessions list` lists them")
        summary = session_summary(record)
        summary["commands_executed"] = list(record.commands_executed)
        summary["session_log"] = record.session_log
        return summary


def session_summary(record: m.SessionRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "user": record.user.username,
        "device": record.device.name,
        "session_type": str(record.session_type),
        "status": str(record.status),
        "session_start": record.session_start.isoformat(),
        "session_end": record.session_end.isoformat() if record.session_end else None,
        "commands": len(record.commands_executed),
        "recording_path": record.recording_path,
    }


def terminate_session(store: Store, record_id: int, acting_user: str) -> str:
    """Mark an active session terminated (the bastion ends it within a second); admins only.
    Returns the status the session has afterwards."""
    with store.session() as session:
        me = session.scalars(select(m.User).where(m.User.username == acting_user)).one_or_none()
        if me is None or me.role is not UserRole.ADMIN:
            raise NettuiError(
                f"only an admin may terminate sessions; '{acting_user}' is not one",
                hint="ask an admin, or run as one (`--as ADMIN` works for admins only)",
            )
        record = session.get(m.SessionRecord, record_id)
        if record is None:
            raise NotFoundError(f"no session {record_id}", hint="`nettui sessions list --active` lists them")
        result = session.execute(
            update(m.SessionRecord)
            .where(m.SessionRecord.id == record_id, m.SessionRecord.status == SessionStatus.ACTIVE)
            .values(status=SessionStatus.TERMINATED, session_end=datetime.now(UTC))
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NettuiError(
                f"session {record_id} is not active (it is {record.status})", hint="only active sessions end"
            )
        return str(SessionStatus.TERMINATED)
