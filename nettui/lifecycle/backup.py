"""Configuration backups: collect, keep what changed, show history and differences, restore.

A run collects the running configuration (and the startup configuration where the platform
has one) of many devices at once through their providers (drivers.fanout, bounded
concurrency). Each configuration is cleaned (configtext: volatile lines dropped, secrets
masked by policy, validated) and stored as a BackupRecord only when it differs from the
device's latest record of the same source. Versions are record ids, in order.

Restore pushes a chosen version back through the library workflow ``restore-config``: the
lab (and many real devices) has no ``configure replace``, so the change sent is the
difference from the live configuration to the chosen one, computed by hier-config, which
works on every platform. Masked secret lines are never sent.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from catalog import models as m
from catalog.errors import NettuiError, NotFoundError
from catalog.models.choices import BackupType, ExecutionStatus
from catalog.store import Store
from drivers.base import Provider
from drivers.platforms import PROFILES
from nettui.lifecycle.configtext import (
    MASK,
    CleanConfig,
    SecretPolicy,
    clean_config,
    hide_secrets,
    hier_driver,
    strip_volatile,
)

DEFAULT_DRIVER = "asyncssh"
RESTORE_WORKFLOW = "restore-config"
ENV_SECRETS_POLICY = "NETTUI_BACKUP_SECRETS"


class BackupError(NettuiError):
    """A backup, a history query or a restore that cannot be done as asked."""


def default_policy() -> SecretPolicy:
    """``$NETTUI_BACKUP_SECRETS`` (mask, remove or keep), else mask."""
    from nettui.lifecycle.configtext import secret_policy

    return secret_policy(os.environ.get(ENV_SECRETS_POLICY, "mask"))


# -- collecting ---------------------------------------------------------------------------------


@dataclass
class Collected:
    """What one device gave: raw configurations by source, and its facts."""

    configs: dict[str, str]
    facts: dict[str, Any]
    method: str
    cleaned: dict[str, CleanConfig] = field(default_factory=dict)


@dataclass
class DeviceBackup:
    """The outcome of one device in a run."""

    device: str
    ok: bool
    stored: dict[str, int] = field(default_factory=dict)  # source -> new record id
    unchanged: list[str] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)  # source -> validation problems
    error: str = ""
    elapsed: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "ok": self.ok,
            "stored": self.stored,
            "unchanged": self.unchanged,
            "problems": self.problems,
            "error": self.error,
            "elapsed": round(self.elapsed, 3),
        }


@dataclass
class BackupRun:
    devices: list[DeviceBackup]
    elapsed: float
    git_commit: str | None = None
    pruned: int = 0

    @property
    def changed(self) -> list[DeviceBackup]:
        return [d for d in self.devices if d.stored]

    @property
    def failed(self) -> list[DeviceBackup]:
        return [d for d in self.devices if not d.ok]

    def summary(self) -> str:
        ok = len(self.devices) - len(self.failed)
        rate = len(self.devices) / self.elapsed if self.elapsed else 0.0
        return (
            f"{ok}/{len(self.devices)} device(s) backed up in {self.elapsed:.1f} s ({rate:.0f}/s): "
            f"{len(self.changed)} changed, {ok - len(self.changed)} unchanged, {len(self.failed)} failed"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "devices": [d.to_json() for d in self.devices],
            "elapsed": round(self.elapsed, 3),
            "changed": len(self.changed),
            "failed": len(self.failed),
            "git_commit": self.git_commit,
            "pruned": self.pruned,
        }


async def collect(provider: Provider, *, startup: bool = True, facts: bool = True) -> Collected:
    """Running (and startup, where the platform has one) configuration and facts of one device."""
    driver = provider.target.network_driver
    profile = PROFILES.get(driver)
    configs = {"running": await provider.get_config("running")}
    if startup and profile is not None and profile.startup_config is not None:
        configs["startup"] = await provider.get_config("startup")
    found = await provider.get_facts() if facts else {}
    command = profile.running_config if profile else "running configuration"
    return Collected(configs, dict(found), f"CLI ({provider.name}): {command}")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _latest_digests(session: Any, device_ids: list[int]) -> dict[tuple[int, str], str]:
    """(device id, source) -> sha256 of its latest configuration record (from its metadata:
    the texts themselves are not read)."""
    latest: dict[tuple[int, str], str] = {}
    for chunk in [device_ids[i : i + 500] for i in range(0, len(device_ids), 500)]:
        rows = session.execute(
            select(m.BackupRecord.device_id, m.BackupRecord.metadata_)
            .where(m.BackupRecord.device_id.in_(chunk), m.BackupRecord.backup_type == BackupType.CONFIG)
            .order_by(m.BackupRecord.id)
        )
        for device_id, metadata in rows:
            source = str((metadata or {}).get("source", "running"))
            latest[(device_id, source)] = str((metadata or {}).get("sha256") or "")
    return latest


async def run_backups(
    store: Store,
    names: list[str],
    *,
    driver: str = DEFAULT_DRIVER,
    concurrency: int | None = None,
    policy: SecretPolicy | None = None,
    startup: bool = True,
    facts: bool = True,
    keep_last: int | None = None,
    keep_days: float | None = None,
    git_url: str | None = None,
    on_done: Callable[[DeviceBackup, int, int], None] | None = None,
) -> BackupRun:
    """Back up ``names`` in parallel; store a record per source whose configuration changed.

    ``on_done(outcome, done, total)`` reports progress as each device finishes. Retention
    (``keep_last``/``keep_days``) and the Git export, when asked, follow the run."""
    from drivers.fanout import DeviceOutcome, for_each_device

    if not names:
        raise BackupError("no devices to back up", hint="give --device NAME, --filter KEY=VALUE or --all")
    policy = policy or default_policy()
    started = time.perf_counter()
    with store.read_session() as session:
        rows = session.execute(
            select(m.Device.id, m.Device.name, m.Platform.network_driver)
            .join(m.Platform, m.Device.platform_id == m.Platform.id, isouter=True)
            .where(m.Device.name.in_(names))
        ).all()
    ids = {name: device_id for device_id, name, _ in rows}
    drivers = {name: network_driver or "" for _, name, network_driver in rows}
    missing = sorted(set(names) - set(ids))
    if missing:
        raise NotFoundError(f"no device {', '.join(map(repr, missing))}", hint="`nettui inventory list`")
    total = len(names)
    outcomes: list[DeviceBackup] = []
    collected: dict[str, Collected] = {}

    def done(outcome: DeviceOutcome) -> None:
        result = DeviceBackup(outcome.device, outcome.ok, elapsed=outcome.elapsed)
        if outcome.ok:
            collected[outcome.device] = outcome.value
        else:
            assert outcome.error is not None
            result.error = outcome.error.render()
        outcomes.append(result)
        if on_done is not None:
            on_done(result, len(outcomes), total)

    async def action(provider: Provider) -> Collected:
        got = await collect(provider, startup=startup, facts=facts)
        # Cleaned while other devices are still talking: the CPU work overlaps their waits.
        driver_name = provider.target.network_driver
        for source, raw in got.configs.items():
            got.cleaned[source] = await asyncio.to_thread(clean_config, raw, driver_name, policy)
        return got

    reachable = await asyncio.to_thread(_preparable, store, names, done)
    await for_each_device(store, reachable, action, driver=driver, concurrency=concurrency, on_done=done)
    by_name = {o.device: o for o in outcomes}
    await asyncio.to_thread(_store_changed, store, ids, drivers, collected, by_name, policy)
    run = BackupRun([by_name[n] for n in names], 0.0)
    if keep_last is not None or keep_days is not None:
        run.pruned = await asyncio.to_thread(prune, store, keep_last=keep_last, keep_days=keep_days, devices=names)
    if git_url:
        run.git_commit = await asyncio.to_thread(export_to_git, store, git_url, run)
    run.elapsed = time.perf_counter() - started
    return run


def _preparable(store: Store, names: list[str], failed: Callable[[Any], None]) -> list[str]:
    """The devices nettui can connect to: one without a platform or credentials fails on its
    own (reported through ``failed``) instead of stopping the whole run."""
    from drivers.connect import prepare_devices
    from drivers.fanout import DeviceOutcome

    try:
        prepare_devices(store, names)
        return names
    except NettuiError:
        pass
    good = []
    for name in names:
        try:
            prepare_devices(store, [name])
            good.append(name)
        except NettuiError as exc:
            failed(DeviceOutcome(name, error=exc))
    return good


def _store_changed(
    store: Store,
    ids: dict[str, int],
    drivers: dict[str, str],
    collected: dict[str, Collected],
    outcomes: dict[str, DeviceBackup],
    policy: SecretPolicy,
) -> None:
    """One transaction: a record for each (device, source) whose cleaned text changed."""
    now = datetime.now(UTC)
    with store.session() as session:
        latest = _latest_digests(session, [ids[n] for n in collected])
        for name, got in collected.items():
            outcome = outcomes[name]
            version = str(
                got.facts.get("os_version") or got.facts.get("version") or got.facts.get("software_version") or ""
            )
            for source, raw in got.configs.items():
                clean = got.cleaned.get(source) or clean_config(raw, drivers[name], policy)
                if clean.problems:
                    outcome.problems[source] = clean.problems
                sha = digest(clean.text)
                if latest.get((ids[name], source)) == sha:
                    outcome.unchanged.append(source)
                    continue
                record = m.BackupRecord(
                    device_id=ids[name],
                    backup_type=BackupType.CONFIG,
                    backup_data=clean.text,
                    backup_method=got.method if source == "running" else got.method.replace("running", source),
                    backup_timestamp=now,
                    validated=clean.validated,
                    restore_count=0,
                    metadata_={
                        "source": source,
                        "sha256": sha,
                        "facts": got.facts,
                        "version": version,
                        "network_driver": drivers[name],
                        "secrets_policy": policy.value,
                        "secret_lines": clean.secret_lines,
                        "validation": clean.problems,
                        "lines": clean.text.count("\n"),
                    },
                )
                session.add(record)
                session.flush()
                outcome.stored[source] = int(record.id)


def backup_devices(store: Store, names: list[str], **options: Any) -> BackupRun:
    """Blocking form of :func:`run_backups`."""
    return asyncio.run(run_backups(store, names, **options))


def register_file_backup(
    store: Store, device: str, path: Path, backup_type: BackupType, *, method: str = "file"
) -> int:
    """An ``os_image`` or ``full`` backup: the file stays where it is; the record keeps its
    reference (an absolute file URI) and its SHA-256 and size, to check it before use."""
    if backup_type == BackupType.CONFIG:
        raise BackupError("a configuration backup holds text, not a file reference", hint="use os_image or full")
    path = path.expanduser().resolve()
    if not path.is_file():
        raise BackupError(f"no file {str(path)!r}", hint="give the path of the image or archive to register")
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    with store.session() as session:
        device_id = _device_id(session, device)
        record = m.BackupRecord(
            device_id=device_id,
            backup_type=backup_type,
            backup_data=path.as_uri(),
            backup_method=method,
            validated=True,
            metadata_={"sha256": sha.hexdigest(), "size": path.stat().st_size, "file": path.name},
        )
        session.add(record)
        session.flush()
        return int(record.id)


def verify_file_backup(store: Store, record_id: int) -> bool:
    """Whether the referenced file is still there with the recorded checksum."""
    from urllib.parse import unquote, urlparse

    record = get_record(store, record_id)
    if record["backup_type"] == BackupType.CONFIG.value:
        raise BackupError(f"backup {record_id} is a configuration, not a file reference")
    path = Path(unquote(urlparse(record["backup_data"]).path))
    if not path.is_file():
        return False
    return bool(hashlib.sha256(path.read_bytes()).hexdigest() == record["metadata"].get("sha256"))


# -- history ------------------------------------------------------------------------------------


def _device_id(session: Any, name: str) -> int:
    found = session.scalar(select(m.Device.id).where(m.Device.name == name))
    if found is None:
        raise NotFoundError(f"no device '{name}'", hint="`nettui inventory list`")
    return int(found)


def record_dict(record: m.BackupRecord, *, with_data: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": record.id,
        "device": record.device.name,
        "backup_type": record.backup_type.value,
        "source": record.metadata_.get("source", "running"),
        "backup_method": record.backup_method,
        "backup_timestamp": record.backup_timestamp,
        "validated": record.validated,
        "restore_count": record.restore_count,
        "version": record.metadata_.get("version", ""),
        "lines": record.metadata_.get("lines"),
        "sha256": record.metadata_.get("sha256", ""),
    }
    if with_data:
        data["metadata"] = dict(record.metadata_)
        data["backup_data"] = record.backup_data
    return data


def history(
    store: Store, device: str | None = None, *, source: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Backups, newest first: of one device, or the latest of every device when ``device`` is None."""
    with store.read_session() as session:
        query = select(m.BackupRecord).options(selectinload(m.BackupRecord.device)).order_by(m.BackupRecord.id.desc())
        if device is not None:
            query = query.where(m.BackupRecord.device_id == _device_id(session, device))
        records = [
            r for r in session.scalars(query) if source is None or r.metadata_.get("source", "running") == source
        ]
        if device is None:
            seen: set[tuple[int, str, str]] = set()
            latest = []
            for r in records:
                key = (r.device_id, r.backup_type.value, str(r.metadata_.get("source", "running")))
                if key not in seen:
                    seen.add(key)
                    latest.append(r)
            records = sorted(latest, key=lambda r: (r.device.name, r.id))
        return [record_dict(r) for r in (records if limit is None else records[:limit])]


def get_record(store: Store, record_id: int) -> dict[str, Any]:
    with store.read_session() as session:
        record = session.scalars(
            select(m.BackupRecord).where(m.BackupRecord.id == record_id).options(selectinload(m.BackupRecord.device))
        ).one_or_none()
        if record is None:
            raise NotFoundError(f"no backup {record_id}", hint="`nettui backup list DEVICE` lists a device's backups")
        return record_dict(record, with_data=True)


def latest_config(store: Store, device: str, source: str = "running") -> dict[str, Any] | None:
    """The device's latest configuration backup of ``source`` (None when it has none)."""
    found = history(store, device, source=source)
    configs = [r for r in found if r["backup_type"] == BackupType.CONFIG.value]
    return get_record(store, configs[0]["id"]) if configs else None


def resolve_pair(
    store: Store, device: str, older: int | None, newer: int | None, source: str = "running"
) -> tuple[int, int]:
    """The two versions to compare: as given, else the device's two latest of ``source``."""
    versions = [r["id"] for r in history(store, device, source=source) if r["backup_type"] == BackupType.CONFIG.value]
    if newer is None:
        if not versions:
            raise BackupError(
                f"device '{device}' has no {source} configuration backup", hint=f"nettui backup run --device {device}"
            )
        newer = versions[0]
    if older is None:
        earlier = [v for v in versions if v < newer]
        if not earlier:
            raise BackupError(
                f"device '{device}' has only one {source} version (#{newer}) up to there: nothing to compare"
            )
        older = earlier[0]
    return older, newer


def unified_diff(store: Store, older: int, newer: int, *, context: int = 3) -> str:
    """The unified diff from version ``older`` to version ``newer`` (of any devices)."""
    a, b = get_record(store, older), get_record(store, newer)
    for record in (a, b):
        if record["backup_type"] != BackupType.CONFIG.value:
            raise BackupError(f"backup {record['id']} is a {record['backup_type']} file reference: no text to compare")
    stamp = "%Y-%m-%d %H:%M:%S"
    return "".join(
        difflib.unified_diff(
            a["backup_data"].splitlines(keepends=True),
            b["backup_data"].splitlines(keepends=True),
            fromfile=f"{a['device']} #{a['id']} {a['backup_timestamp']:{stamp}}",
            tofile=f"{b['device']} #{b['id']} {b['backup_timestamp']:{stamp}}",
            n=context,
        )
    )


def prune(
    store: Store, *, keep_last: int | None = None, keep_days: float | None = None, devices: list[str] | None = None
) -> int:
    """Delete configuration backups beyond the last ``keep_last`` per device and source, and/or
    older than ``keep_days``; the latest of each device and source always stays. How many went."""
    if keep_last is not None and keep_last < 1:
        raise BackupError(f"--keep {keep_last}: keep at least the latest backup", hint="give 1 or more")
    if keep_days is not None and keep_days <= 0:
        raise BackupError(f"--keep-days {keep_days}: give a positive number of days")
    cutoff = datetime.now(UTC) - timedelta(days=keep_days) if keep_days is not None else None
    with store.session() as session:
        query = select(
            m.BackupRecord.id, m.BackupRecord.device_id, m.BackupRecord.metadata_, m.BackupRecord.backup_timestamp
        ).where(m.BackupRecord.backup_type == BackupType.CONFIG)
        if devices is not None:
            query = query.where(m.BackupRecord.device_id.in_(select(m.Device.id).where(m.Device.name.in_(devices))))
        groups: dict[tuple[int, str], list[tuple[int, datetime]]] = {}
        for record_id, device_id, metadata, stamp in session.execute(query.order_by(m.BackupRecord.id.desc())):
            groups.setdefault((device_id, str((metadata or {}).get("source", "running"))), []).append(
                (record_id, stamp)
            )
        doomed = []
        for versions in groups.values():
            for index, (record_id, stamp) in enumerate(versions):
                if index == 0:
                    continue
                aware = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
                if (keep_last is not None and index >= keep_last) or (cutoff is not None and aware < cutoff):
                    doomed.append(record_id)
        for chunk in [doomed[i : i + 500] for i in range(0, len(doomed), 500)]:
            session.execute(delete(m.BackupRecord).where(m.BackupRecord.id.in_(chunk)))
        return len(doomed)


# -- restore ------------------------------------------------------------------------------------


@dataclass
class RestorePlan:
    device: str
    record_id: int
    lines: list[str]
    skipped: list[str]  # lines not sent: they hold a masked secret


def remediation_lines(driver: str, running: str, wanted: str) -> list[str]:
    """What to send to go from ``running`` to ``wanted`` (hier-config), one command a line;
    after a block, IOS-like platforms get an ``exit`` so the next global line is global."""
    from hier_config import WorkflowRemediation, get_hconfig

    platform = hier_driver(driver)
    remediation = WorkflowRemediation(get_hconfig(platform, running), get_hconfig(platform, wanted)).remediation_config
    return command_lines(remediation.dump_simple(), driver)


def command_lines(lines: Any, driver: str) -> list[str]:
    """Indented hier-config lines as commands, stripped (a multi-line banner as its lines); on
    IOS-like platforms an ``exit`` leaves each block, so the next line is read at the level it
    belongs to."""
    lines = [line for line in lines if line.strip()]
    levels = [(len(line) - len(line.lstrip(" "))) // 2 for line in lines]
    out: list[str] = []
    for index, line in enumerate(lines):
        # A banner is one hier-config line holding its text's new lines: one command a line.
        out.extend(line.strip().split("\n"))
        following = levels[index + 1] if index + 1 < len(lines) else 0
        if driver != "juniper_junos":
            out.extend(["exit"] * max(0, levels[index] - following))
    return out


async def plan_restore(store: Store, record_id: int, *, driver: str = DEFAULT_DRIVER) -> RestorePlan:
    """Read the device's live configuration and work out what brings it back to ``record_id``."""
    from drivers.connect import connect

    record = await asyncio.to_thread(get_record, store, record_id)
    if record["backup_type"] != BackupType.CONFIG.value:
        raise BackupError(
            f"backup {record_id} is a {record['backup_type']} file reference",
            hint="restore images with an upgrade workflow",
        )
    if record["metadata"].get("source", "running") != "running":
        raise BackupError(
            f"backup {record_id} is a startup configuration", hint="restore a running configuration version"
        )
    network_driver = str(record["metadata"].get("network_driver") or "")
    policy = SecretPolicy(str(record["metadata"].get("secrets_policy", "mask")))
    async with await connect(store, record["device"], driver) as provider:
        live = await provider.get_config("running")
        network_driver = network_driver or provider.target.network_driver
    # The live side is cleaned like the backup, so secrets compare equal and are never sent.
    running, _ = hide_secrets(strip_volatile(live, network_driver), network_driver, policy)
    lines = remediation_lines(network_driver, running, record["backup_data"])
    sent = [line for line in lines if MASK not in line]
    skipped = [line for line in lines if MASK in line]
    return RestorePlan(record["device"], record_id, sent, skipped)


def restore(
    store: Store, record_id: int, *, requested_by: str, driver: str = DEFAULT_DRIVER, run: bool = True
) -> tuple[RestorePlan, int | None, ExecutionStatus | None]:
    """Submit ``restore-config`` with the lines that bring the device back to ``record_id``;
    with ``run``, run it here (unless it awaits approval). Returns the plan, the execution id
    and its status (None, None when the device already matches the backup)."""
    from nettui.engine.runner import run_execution, submit

    plan = asyncio.run(plan_restore(store, record_id, driver=driver))
    if not plan.lines:
        return plan, None, None
    execution_id = submit(
        store,
        RESTORE_WORKFLOW,
        [plan.device],
        {"device": plan.device, "backup_id": record_id, "lines": plan.lines},
        requested_by=requested_by,
    )
    with store.read_session() as session:
        execution = session.get(m.Execution, execution_id)
        assert execution is not None
        status = execution.status
    if run and status == ExecutionStatus.PENDING:
        status = asyncio.run(run_execution(store, execution_id, driver=driver))
    return plan, execution_id, status


def record_restore(store: Store, record_id: int) -> int:
    """Count one more restore of ``record_id``; the new count."""
    with store.session() as session:
        record = session.get(m.BackupRecord, record_id)
        if record is None:
            raise NotFoundError(f"no backup {record_id}")
        record.restore_count += 1
        return int(record.restore_count)


# -- Git export ---------------------------------------------------------------------------------


def export_to_git(store: Store, url: str, run: BackupRun | None = None, *, branch: str = "main") -> str | None:
    """Write each device's latest running configuration as ``<device>.cfg`` into the Git
    repository at ``url`` (or the folder of the repository nettui knows by that name, see
    ``nettui catalog repo add --provides backups``) and push one commit; its hash (None when
    nothing changed).

    The same machinery as the catalog's pull and push (nettui.gitrepo): plain ``git``, one file
    per device, one commit per run whose message names the devices added, changed and removed
    and the run, pushed without force."""
    from nettui.gitrepo import export_backups_to

    latest = [r for r in history(store, source="running") if r["backup_type"] == BackupType.CONFIG.value]
    configs = {}
    for row in latest:
        record = get_record(store, row["id"])
        configs[record["device"]] = record["backup_data"]
    summary = run.summary() if run is not None else f"{len(latest)} device(s) exported"
    return export_backups_to(store, url, configs, summary, branch=branch)
