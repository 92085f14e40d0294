"""Session records and refusals in the store: what the bastion writes, and what the CLI (and
later the TUI) read and change. The bastion and the CLI are different processes, so a
termination travels through the store: the CLI sets the status, the bastion notices.

Every bastion process registers itself as an ``engine_node`` row (role ``bastion``, named
``bastion HOST:PID:INSTANCE``) that it refreshes every few seconds and removes when it stops,
and each session it opens names it. A bastion that is killed cannot close its sessions, so
whoever looks at them next does (a bastion starting, ``nettui sessions list``, the TUI's
Sessions screen): an active session whose bastion is gone becomes ``terminated``, ending at the
last moment its recording holds. Gone means, on this host, that the process no longer exists;
on another host (several bastions may share a store), that its heartbeat is older than
:data:`BASTION_STALE_S` or its row is missing.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import selectinload

from catalog import models as m
from catalog.errors import NettuiError, NotFoundError
from catalog.models.choices import SessionStatus, SessionType, UserRole
from catalog.secrets import Secret, SecretResolutionError, resolve_entry
from catalog.store import Store
from catalog.users import device_in_scope, find_user

log = logging.getLogger(__name__)

BASTION_ROLE = "bastion"
BASTION_HEARTBEAT_S = 5.0  # how often a bastion says it is alive
BASTION_STALE_S = 20.0  # a bastion on another host silent this long is gone
_PREFIX = "bastion "
_RUNNING_HERE: set[str] = set()  # the bastions running in this process (tests run several)


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


def open_record(store: Store, *, username: str, device: str, bastion: str = "") -> int:
    """A new active SessionRecord served by ``bastion`` (its registered name); its id."""
    with store.session() as session:
        user_id = session.scalars(select(m.User.id).where(m.User.username == username)).one()
        device_id = session.scalars(select(m.Device.id).where(m.Device.name == device)).one()
        record = m.SessionRecord(
            user_id=user_id, device_id=device_id, session_type=SessionType.SSH, bastion=bastion[:255]
        )
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


# -- bastion processes, and the sessions of those that died ----------------------------------------


def register_bastion(store: Store) -> str:
    """Register this bastion (an engine_node row with the role ``bastion``); its name."""
    name = f"{_PREFIX}{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    now = m.utcnow()
    with store.session() as session:
        session.add(m.EngineNode(name=name, roles=[BASTION_ROLE], started_at=now, heartbeat_at=now))
    _RUNNING_HERE.add(name)
    return name


def bastion_heartbeat(store: Store, name: str) -> None:
    """Say that bastion ``name`` is alive; its row comes back if someone took it for dead (a
    stall longer than :data:`BASTION_STALE_S`, seen from another host)."""
    now = m.utcnow()
    with store.session() as session:
        result = session.execute(update(m.EngineNode).where(m.EngineNode.name == name).values(heartbeat_at=now))
        if result.rowcount == 0:  # type: ignore[attr-defined]
            session.add(m.EngineNode(name=name, roles=[BASTION_ROLE], started_at=now, heartbeat_at=now))


def unregister_bastion(store: Store, name: str) -> None:
    """A bastion that stopped (its sessions finished): its row goes."""
    _RUNNING_HERE.discard(name)
    with store.session() as session:
        session.execute(delete(m.EngineNode).where(m.EngineNode.name == name))


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            # A killed process its parent has not reaped yet is a zombie: gone all the same.
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def bastion_gone(name: str, node: m.EngineNode | None, now: datetime, stale_after: float = BASTION_STALE_S) -> bool:
    """Whether the bastion ``name`` (whose engine_node row is ``node``, if any) is gone."""
    if node is None or node.stopped_at is not None or not name.startswith(_PREFIX):
        return True
    host, _, rest = name[len(_PREFIX) :].partition(":")
    pid, _, _instance = rest.partition(":")
    if not pid.isdigit():
        return True
    if host == socket.gethostname():
        if int(pid) == os.getpid():
            return name not in _RUNNING_HERE
        return not _pid_alive(int(pid))
    return now - node.heartbeat_at > timedelta(seconds=stale_after)


def recording_end(path: str, started: datetime) -> datetime | None:
    """The wall-clock time of the last event in the recording at ``path``; None if unreadable."""
    from bastion.recording import read_asciicast

    if not path:
        return None
    try:
        header, events = read_asciicast(Path(path))
    except (NettuiError, ValueError, TypeError, json.JSONDecodeError):
        return None
    # The header's timestamp has whole seconds; the record's start is precise and a few
    # milliseconds earlier than the recording's: the later of the two is the better origin.
    origin = max(datetime.fromtimestamp(int(header.get("timestamp", 0)), UTC), started)
    return origin + timedelta(seconds=events[-1][0] if events else 0.0)


def recover_sessions(store: Store, *, stale_after: float = BASTION_STALE_S) -> list[int]:
    """Mark ``terminated`` the active sessions whose bastion is gone, each ending at the last
    moment recorded (its recording's last event, else its bastion's last heartbeat, else its
    start), and remove the rows of gone bastions; the ids of the sessions closed."""
    now = m.utcnow()
    with store.read_session() as session:
        active = session.execute(
            select(
                m.SessionRecord.id,
                m.SessionRecord.bastion,
                m.SessionRecord.session_start,
                m.SessionRecord.recording_path,
            ).where(m.SessionRecord.status == SessionStatus.ACTIVE)
        ).all()
        nodes = {
            n.name: n
            for n in session.scalars(select(m.EngineNode).where(m.EngineNode.name.startswith(_PREFIX, autoescape=True)))
        }
        session.expunge_all()
    gone_nodes = {name for name, node in nodes.items() if bastion_gone(name, node, now, stale_after)}
    orphans = [
        row
        for row in active
        if row.bastion in gone_nodes or bastion_gone(row.bastion, nodes.get(row.bastion), now, stale_after)
    ]
    if not orphans and not gone_nodes:
        return []
    closed = []
    with store.session() as session:
        for row in orphans:
            node = nodes.get(row.bastion)
            end = recording_end(row.recording_path, row.session_start)
            if end is None:
                end = node.heartbeat_at if node is not None else row.session_start
            result = session.execute(
                update(m.SessionRecord)
                .where(m.SessionRecord.id == row.id, m.SessionRecord.status == SessionStatus.ACTIVE)
                .values(status=SessionStatus.TERMINATED, session_end=max(end, row.session_start))
            )
            if result.rowcount:  # type: ignore[attr-defined]
                closed.append(row.id)
        if gone_nodes:
            session.execute(delete(m.EngineNode).where(m.EngineNode.name.in_(gone_nodes)))
    if closed:
        log.warning("closed %d session(s) whose bastion is gone: %s", len(closed), closed)
    return closed


# -- what the CLI asks ----------------------------------------------------------------------------


def list_sessions(
    store: Store, *, active_only: bool = False, limit: int = 200, recover: bool = True
) -> list[dict[str, Any]]:
    """The latest sessions, newest first, as records for output; sessions whose bastion died
    are closed first (``recover``)."""
    if recover:
        recover_sessions(store)
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


def get_session(store: Store, record_id: int, *, recover: bool = True) -> dict[str, Any]:
    """One session with its commands and log; NotFoundError if there is none. Sessions whose
    bastion died are closed first (``recover``)."""
    if recover:
        recover_sessions(store)
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
        "bastion": record.bastion,
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
