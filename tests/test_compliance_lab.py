"""Every built-in compliance check, live on each of the lab's four platforms: the device is made
non-compliant (or is so out of the box), the check fails reading the device over SSH, the
remediation hier-config computes is applied through the engine, and the check passes live.

This proves both sides: that the lab takes, keeps and shows every line the checks' templates
produce, and that the templates are what real devices print (the lab prints them the way the
devices do).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from catalog import models as m
from catalog.models.choices import ExecutionStatus
from catalog.store import Store
from catalog.sync import LIBRARY_DIR
from drivers.connect import connect
from nettui.lab import LabThread, run_lab_in_thread
from nettui.lifecycle import compliance
from tests.lab_store import seed_lab_store

pytestmark = pytest.mark.slow

PLATFORMS = ["cisco_ios", "cisco_nxos", "arista_eos", "juniper_junos"]
CHECKS = sorted(path.stem for path in (LIBRARY_DIR / "checks").glob("*.yaml"))
PASSWORD = "Lab-Login-Pa55-cl"
ENABLE = "Lab-Enable-S3cret-cl"
INTENT: dict[str, dict[str, Any]] = {
    "ntp-servers-configured": {"ntp": {"servers": ["192.0.2.11", "192.0.2.12"]}},
    "login-banner": {"banner": {"login": "Authorised staff only. Sessions are recorded."}},
}
# What makes a factory-fresh device fail a check it would pass (the others fail out of the box).
BREAK: dict[tuple[str, str], list[str]] = {
    ("snmp-no-default-communities", "cisco_ios"): [
        "snmp-server community public RO",
        "snmp-server community private RW",
    ],
    ("snmp-no-default-communities", "cisco_nxos"): ["snmp-server community private group network-admin"],
    ("snmp-no-default-communities", "arista_eos"): ["snmp-server community public ro"],
    ("snmp-no-default-communities", "juniper_junos"): ["set snmp community public authorization read-only"],
    ("ssh-only-management", "cisco_ios"): ["no ip ssh version", "line vty 0 15", "transport input telnet ssh", "end"],
    ("ssh-only-management", "cisco_nxos"): ["feature telnet"],
    ("ssh-only-management", "arista_eos"): ["management telnet", "no shutdown", "exit"],
    ("ssh-only-management", "juniper_junos"): ["set system services telnet"],
}


def test_every_check_and_platform_is_covered() -> None:
    for check in CHECKS:
        data = yaml.safe_load((LIBRARY_DIR / "checks" / f"{check}.yaml").read_text())
        assert data["match_rules"]["platforms"] == PLATFORMS, check
    assert Path(__file__).exists()


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    # One device per (check, platform): each test changes its own device only.
    count = len(CHECKS) * len(PLATFORMS)
    with run_lab_in_thread(devices=count, platforms=PLATFORMS, password=PASSWORD, enable_secret=ENABLE) as handle:
        yield handle


@pytest.fixture
def store(sqlite_store: Store, lab: LabThread, monkeypatch: pytest.MonkeyPatch) -> Store:
    return seed_lab_store(sqlite_store, lab, monkeypatch, password=PASSWORD, enable_secret=ENABLE)


async def _send(store: Store, device: str, lines: list[str]) -> None:
    async with await connect(store, device, "asyncssh") as provider:
        await provider.send_config(lines)


async def _running(store: Store, device: str) -> str:
    async with await connect(store, device, "asyncssh") as provider:
        return str(await provider.get_config("running"))


def _steps(store: Store, execution_id: int) -> list[Any]:
    """What each step of an execution did, and its events (for a failure's message)."""
    with store.read_session() as session:
        steps = session.scalars(select(m.ExecutionStep).where(m.ExecutionStep.execution_id == execution_id))
        events = session.scalars(select(m.ExecutionEvent).where(m.ExecutionEvent.execution_id == execution_id))
        return [(row.status.value, row.rendered_content, row.error_message) for row in steps] + [
            (event.kind, event.detail) for event in events
        ]


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("check", CHECKS)
def test_check_fails_live_is_remediated_and_passes_live(
    store: Store, lab: LabThread, check: str, platform: str
) -> None:
    devices = [d for d in lab.devices if d.platform_name == platform]
    device = devices[CHECKS.index(check)].name
    if (check, platform) in BREAK:
        asyncio.run(_send(store, device, BREAK[(check, platform)]))
    intent = INTENT.get(check, {})

    first = compliance.compliance_run(store, checks=[check], devices=[device], live=True, intended=intent)
    assert [r["status"] for r in first.runs] == ["failed"], first.runs
    run = first.runs[0]
    assert run["missing"] or run["forbidden_present"]

    execution_id, status = compliance.remediate(store, int(run["id"]), requested_by="ops")
    assert status == ExecutionStatus.COMPLETED, _steps(store, execution_id)

    again = compliance.compliance_run(store, checks=[check], devices=[device], live=True, intended=intent)
    assert [r["status"] for r in again.runs] == ["passed"], (again.runs, asyncio.run(_running(store, device)))
