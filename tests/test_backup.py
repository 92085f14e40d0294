"""Configuration backups on the lab: 50 devices over real SSH, a change seen as exactly one new
version with its diff, a restore through the restore-config workflow (approved), secrets that
never reach the store, retention, the Git export and file references."""

from __future__ import annotations

import asyncio
import getpass
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from catalog import models as m
from catalog.models.choices import BackupType, ExecutionStatus, StepStatus
from catalog.store import Store
from drivers.connect import connect
from nettui.engine.approvals import decide
from nettui.engine.runner import run_execution
from nettui.lab import LabThread, run_lab_in_thread
from nettui.lifecycle import backup
from nettui.lifecycle.configtext import MASK, SecretPolicy, clean_config
from tests.conftest import run_cli
from tests.lab_store import seed_lab_store

pytestmark = pytest.mark.slow

PLATFORMS = ["cisco_ios", "cisco_nxos", "arista_eos", "juniper_junos"]
PASSWORD = "Lab-Login-Pa55-bk"
ENABLE = "Lab-Enable-S3cret-bk"
COMMUNITY = "Snmp-C0mmunity-bk7"
JUNOS_USER_PASSWORD = "Junos-User-Pa55-bk"
TACACS_KEY = "Tacacs-K3y-bk9"


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(devices=50, platforms=PLATFORMS, password=PASSWORD, enable_secret=ENABLE) as handle:
        yield handle


@pytest.fixture
def lab_store(store: Store, lab: LabThread, monkeypatch: pytest.MonkeyPatch) -> Store:
    seeded = seed_lab_store(store, lab, monkeypatch, password=PASSWORD, enable_secret=ENABLE)
    with seeded.session() as session:
        session.add(m.User(username="boss", role="approver"))
        session.add(m.User(username=getpass.getuser(), role="operator"))  # the CLI acts as the OS user
    return seeded


def _names(lab: LabThread) -> list[str]:
    return [d.name for d in lab.devices]


def _first(lab: LabThread, platform: str) -> str:
    return next(d.name for d in lab.devices if d.platform_name == platform)


async def _send(store: Store, device: str, lines: list[str]) -> None:
    async with await connect(store, device, "asyncssh") as provider:
        await provider.send_config(lines)


async def _running(store: Store, device: str) -> str:
    async with await connect(store, device, "asyncssh") as provider:
        return await provider.get_config("running")


def _octet(store: Store) -> int:
    """A value of its own per database, so the two runs of a test on one lab change something."""
    return {"sqlite": 1, "postgresql": 2}[store.engine.dialect.name]


def _records(store: Store) -> list[m.BackupRecord]:
    with store.read_session() as session:
        rows = list(session.scalars(select(m.BackupRecord).order_by(m.BackupRecord.id)))
        session.expunge_all()
    return rows


def test_fifty_devices_then_one_change_is_one_new_version_and_restore_brings_it_back(
    lab_store: Store, lab: LabThread
) -> None:
    store, names = lab_store, _names(lab)
    first = backup.backup_devices(store, names)
    assert [d.device for d in first.devices if not d.ok] == []
    records = _records(store)
    # Running everywhere; startup too where the platform has one (Junos has none).
    startup_platforms = {d.name for d in lab.devices if d.platform_name != "juniper_junos"}
    assert len(records) == len(names) + len(startup_platforms)
    assert all(r.validated and r.backup_type == BackupType.CONFIG for r in records)
    one = records[0]
    assert one.backup_method.startswith("CLI (asyncssh)") and one.restore_count == 0
    assert one.metadata_["facts"]["hostname"] and one.metadata_["version"]
    assert one.metadata_["sha256"] and one.metadata_["source"] in ("running", "startup")
    # Volatile lines (the time the command ran, byte counts) are not configuration.
    assert not any("Last configuration change" in r.backup_data or "!Time:" in r.backup_data for r in records)

    again = backup.backup_devices(store, names)
    assert again.changed == [] and len(_records(store)) == len(records)

    device = _first(lab, "cisco_ios")
    asyncio.run(_send(store, device, ["ntp server 10.99.0.1"]))
    third = backup.backup_devices(store, names)
    assert [(d.device, list(d.stored)) for d in third.changed] == [(device, ["running"])]
    assert len(_records(store)) == len(records) + 1

    older, newer = backup.resolve_pair(store, device, None, None)
    diff = backup.unified_diff(store, older, newer)
    added = [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert "+ntp server 10.99.0.1" in added
    assert not [line for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]

    plan, execution_id, status = backup.restore(store, older, requested_by="ops")
    assert "no ntp server 10.99.0.1" in plan.lines and plan.skipped == []
    assert execution_id is not None and status == ExecutionStatus.AWAITING_APPROVAL  # restore-config asks first
    assert backup.get_record(store, older)["restore_count"] == 0
    decide(store, execution_id, "boss", approve=True, comment="rollback of the test change")
    assert asyncio.run(run_execution(store, execution_id)) == ExecutionStatus.COMPLETED

    live = asyncio.run(_running(store, device))
    assert "ntp server 10.99.0.1" not in live.splitlines()
    assert backup.get_record(store, older)["restore_count"] == 1
    with store.read_session() as session:
        steps = session.scalars(select(m.ExecutionStep).where(m.ExecutionStep.execution_id == execution_id)).all()
        assert {s.status for s in steps} == {StepStatus.COMPLETED}
    # The restored configuration is the old one again: the next backup equals version `older`.
    fourth = backup.backup_devices(store, [device], startup=False)
    assert fourth.devices[0].stored
    latest = backup.get_record(store, fourth.devices[0].stored["running"])
    assert latest["sha256"] == backup.get_record(store, older)["sha256"]


def test_with_masking_no_secret_reaches_the_store(lab_store: Store, lab: LabThread) -> None:
    store = lab_store
    chosen = [_first(lab, p) for p in PLATFORMS]
    for name in chosen[:3]:
        asyncio.run(_send(store, name, [f"snmp-server community {COMMUNITY} RO"]))
    junos = chosen[3]
    asyncio.run(
        _send(
            store,
            junos,
            [
                f"set snmp community {COMMUNITY} authorization read-only",
                f'set system login user ops authentication encrypted-password "{JUNOS_USER_PASSWORD}"',
                f'set system tacplus-server 10.0.0.9 secret "{TACACS_KEY}"',
            ],
        )
    )
    live = "\n".join(asyncio.run(_running(store, name)) for name in chosen)
    # What the devices print for their passwords and secrets (hashes included) is secret too.
    printed = re.findall(r"(?:secret|password)(?: 9| 5| sha512)? (\$\S+)", live)
    printed += re.findall(r'encrypted-password "([^"]+)"', live)
    secrets = [PASSWORD, ENABLE, COMMUNITY, JUNOS_USER_PASSWORD, TACACS_KEY, *printed]
    assert COMMUNITY in live and len(printed) >= 5  # the lab really holds them

    backup.backup_devices(store, chosen, policy=SecretPolicy.MASK)
    with store.engine.connect() as conn:
        dump = "\n".join(
            f"{row.backup_data}\n{json.dumps(row.metadata) if not isinstance(row.metadata, str) else row.metadata}"
            for row in conn.execute(text("SELECT backup_data, metadata FROM backup_record"))
        )
    leaked = [s for s in secrets if s in dump]
    assert leaked == []
    assert f"snmp-server community {MASK} RO" in dump and f'secret "{MASK}"' in dump

    # remove drops the lines; keep (asked for explicitly) stores them as they are.
    removed = clean_config(live.split("end\n")[0] + "end\n", "cisco_ios", SecretPolicy.REMOVE)
    assert "snmp-server community" not in removed.text and "enable secret" not in removed.text
    kept = backup.backup_devices(store, chosen[:1], policy=SecretPolicy.KEEP, startup=False)
    assert COMMUNITY in backup.get_record(store, kept.devices[0].stored["running"])["backup_data"]


def test_retention_git_export_and_file_references(lab_store: Store, lab: LabThread, tmp_path: Path) -> None:
    store = lab_store
    devices = [_first(lab, p) for p in PLATFORMS]
    bare = tmp_path / "configs.git"
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(bare)], check=True)
    url = bare.as_uri()

    run = backup.backup_devices(store, devices, git_url=url)
    assert run.git_commit
    work = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", url, str(work)], check=True)
    assert sorted(p.name for p in work.glob("*.cfg")) == sorted(f"{d}.cfg" for d in devices)
    log = subprocess.run(["git", "log", "--format=%s"], cwd=work, capture_output=True, text=True, check=True)
    assert log.stdout.splitlines() == [f"nettui backup: 4 device(s) changed: {', '.join(sorted(devices))}"]
    assert backup.backup_devices(store, devices, git_url=url).git_commit is None  # nothing changed: no commit

    device = devices[1]
    for n in (1, 2, 3):
        asyncio.run(_send(store, device, [f"ntp server 10.98.{_octet(store)}.{n}"]))
        backup.backup_devices(store, [device], startup=False, git_url=url)
    subprocess.run(["git", "pull", "-q"], cwd=work, check=True)
    assert f"ntp server 10.98.{_octet(store)}.3" in (work / f"{device}.cfg").read_text()
    log = subprocess.run(["git", "log", "--format=%s"], cwd=work, capture_output=True, text=True, check=True)
    assert log.stdout.splitlines()[0] == f"nettui backup: 1 device(s) changed: {device}"

    assert len(backup.history(store, device, source="running")) == 4
    assert backup.prune(store, keep_last=2) == 2
    versions = backup.history(store, device, source="running")
    assert (
        len(versions) == 2 and f"10.98.{_octet(store)}.3" in backup.get_record(store, versions[0]["id"])["backup_data"]
    )
    assert len(backup.history(store, devices[0])) == 2  # running and startup: each device keeps its latest

    image = tmp_path / "cat9k_iosxe.17.09.04a.SPA.bin"
    image.write_bytes(b"\x7fELF" + b"x" * 4096)
    record_id = backup.register_file_backup(store, devices[0], image, BackupType.OS_IMAGE)
    record = backup.get_record(store, record_id)
    assert record["backup_data"] == image.as_uri() and record["metadata"]["size"] == 4100
    assert backup.verify_file_backup(store, record_id)
    image.write_bytes(b"changed")
    assert not backup.verify_file_backup(store, record_id)


def test_the_cli_lists_shows_diffs_and_refuses_bad_input(lab_store: Store, lab: LabThread) -> None:
    store = lab_store
    device = _first(lab, "arista_eos")
    result = run_cli(store, "backup", "run", "--device", device, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["devices"][0]["stored"]
    assert f"[1/1] {device}: collected" in result.stderr and "1 changed" in result.stderr
    server = f"10.97.0.{_octet(store)}"
    asyncio.run(_send(store, device, [f"ntp server {server}"]))
    assert run_cli(store, "backup", "run", "--device", device, "--no-startup").exit_code == 0

    listed = json.loads(run_cli(store, "backup", "list", device, "--json").stdout)
    assert [r["source"] for r in listed] == ["running", "startup", "running"]
    shown = run_cli(store, "backup", "show", str(listed[0]["id"]))
    assert f"ntp server {server}" in shown.stdout and shown.stdout.rstrip().endswith("end")
    diff = run_cli(store, "backup", "diff", device)
    assert f"+ntp server {server}" in diff.stdout.splitlines()
    dry = run_cli(store, "backup", "restore", str(listed[2]["id"]), "--dry-run")
    assert dry.stdout.splitlines() == [f"no ntp server {server}"]

    # A device nettui cannot reach (no platform) fails on its own; the others are backed up.
    with store.session() as session:
        session.add(m.Device(name="orphan", host="127.0.0.1"))
    mixed = run_cli(store, "backup", "run", "--device", "orphan", "--device", device, "--json")
    assert mixed.exit_code == 1
    outcome = {d["device"]: d for d in json.loads(mixed.stdout)["devices"]}
    assert outcome[device]["ok"] and not outcome["orphan"]["ok"] and "no platform" in outcome["orphan"]["error"]

    scheduled = run_cli(
        store, "backup", "schedule", "nightly", "--filter", "platform=arista_eos", "--cron", "0 2 * * *"
    )
    assert scheduled.exit_code == 0, scheduled.stderr
    with store.read_session() as session:
        schedule = session.scalars(select(m.Schedule).where(m.Schedule.name == "nightly")).one()
        assert schedule.workflow.slug == "backup-all" and device in schedule.devices
    assert run_cli(store, "backup", "prune", "--keep", "1").exit_code == 0
    assert [r["source"] for r in json.loads(run_cli(store, "backup", "list", device, "--json").stdout)] == [
        "running",
        "startup",
    ]

    missing = run_cli(store, "backup", "run", "--device", "no-such-switch")
    assert missing.exit_code == 1 and "no device 'no-such-switch'" in missing.stderr
    assert run_cli(store, "backup", "run").exit_code == 2  # no target: a usage error
    bad = run_cli(store, "backup", "show", "99999")
    assert bad.exit_code == 1 and "no backup 99999" in bad.stderr and "nettui backup list" in bad.stderr
    only = run_cli(store, "backup", "diff", _first(lab, "juniper_junos"))
    assert only.exit_code == 1 and "backup run" in only.stderr


def test_volatile_lines_and_validation_per_platform() -> None:
    ios = (
        "Building configuration...\n\nCurrent configuration : 1711 bytes\n!\n"
        "! Last configuration change at 12:10:01 UTC Thu Nov 26 2026 by admin\n!\n"
        "version 17.9\nntp clock-period 36028797\nhostname sw1\n!\nend\n"
    )
    cleaned = clean_config(ios, "cisco_ios")
    assert cleaned.validated and cleaned.text == "!\n!\nversion 17.9\nhostname sw1\n!\nend\n"
    cut = clean_config("version 17.9\nhostname sw1\ninterface Gi1/0/1\n", "cisco_ios")
    assert not cut.validated and "no 'end' line" in cut.problems[0]
    assert clean_config("", "arista_eos").problems[0] == "empty"
    nxos = (
        "\n!Command: show running-config\n!Running configuration last done at: Thu Nov 26\n"
        "!Time: Thu Nov 26\n\nversion 10.3(4a)\nhostname sw2\n"
    )
    assert clean_config(nxos, "cisco_nxos").text == "version 10.3(4a)\nhostname sw2\n"
    junos = "set version 21.4R3\nset system host-name sw4\nset snmp community public authorization read-only\n"
    v3 = "snmp-server user ops network-admin auth md5 0x1234abcd priv aes 128 0x5678ef01 localizedkey\nend\n"
    assert clean_config(v3, "cisco_nxos").text.startswith(
        f"snmp-server user ops network-admin auth md5 {MASK} priv aes 128 {MASK} localizedkey"
    )
    kept = clean_config(junos, "juniper_junos")
    assert kept.validated and "community public" in kept.text  # a well-known default is the finding, not a secret
