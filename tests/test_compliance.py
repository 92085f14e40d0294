"""Compliance on the lab: devices made compliant and non-compliant, checked against their
backups and live, remediated through the apply-remediation workflow and confirmed passing by
a new live run; reports with scores; the check types and match rules; and backups and
compliance runs through the engine, as schedules run them."""

from __future__ import annotations

import asyncio
import csv
import getpass
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from catalog import models as m
from catalog.models.choices import CheckType, ComplianceStatus, ExecutionStatus, ScheduleTrigger, Severity
from catalog.store import Store
from drivers.connect import connect
from nettui.engine.runner import run_execution, submit
from nettui.engine.scheduling import add_schedule
from nettui.lab import LabThread, run_lab_in_thread
from nettui.lifecycle import backup, compliance
from tests.conftest import run_cli
from tests.lab_store import seed_lab_store

pytestmark = pytest.mark.slow

PLATFORMS = ["cisco_ios", "cisco_nxos", "arista_eos", "juniper_junos"]
PASSWORD = "Lab-Login-Pa55-cp"
ENABLE = "Lab-Enable-S3cret-cp"
PUBLIC = {
    "cisco_ios": "snmp-server community public RO",
    "cisco_nxos": "snmp-server community public group network-operator",
    "arista_eos": "snmp-server community public ro",
    "juniper_junos": "set snmp community public authorization read-only",
}


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(devices=8, platforms=PLATFORMS, password=PASSWORD, enable_secret=ENABLE) as handle:
        yield handle


@pytest.fixture
def lab_store(store: Store, lab: LabThread, monkeypatch: pytest.MonkeyPatch) -> Store:
    seeded = seed_lab_store(store, lab, monkeypatch, password=PASSWORD, enable_secret=ENABLE)
    with seeded.session() as session:  # the CLI acts as the OS user
        session.add(m.User(username=getpass.getuser(), role="operator"))
    return seeded


async def _send(store: Store, device: str, lines: list[str]) -> None:
    async with await connect(store, device, "asyncssh") as provider:
        await provider.send_config(lines)


def _by_device(runs: list[dict[str, object]]) -> dict[str, str]:
    return {str(r["device"]): str(r["status"]) for r in runs}


def test_non_compliant_devices_are_found_remediated_and_confirmed_passing_live(
    lab_store: Store, lab: LabThread
) -> None:
    store = lab_store
    first = {p: next(d.name for d in lab.devices if d.platform_name == p) for p in PLATFORMS}
    for platform, device in first.items():
        asyncio.run(_send(store, device, [PUBLIC[platform]]))
    backup.backup_devices(store, [d.name for d in lab.devices])

    result = compliance.compliance_run(store, checks=["snmp-no-default-communities"], requested_by="ops")
    statuses = _by_device(result.runs)
    assert {d: s for d, s in statuses.items() if s == "failed"} == dict.fromkeys(first.values(), "failed")
    assert sorted(s for s in statuses.values() if s == "passed") == ["passed"] * (len(lab.devices) - 4)
    failing = {r["device"]: r for r in result.runs if r["status"] == "failed"}
    ios = failing[first["cisco_ios"]]
    assert ios["forbidden_present"] == ["snmp-server community public RO"]
    with store.read_session() as session:
        row = session.get(m.ComplianceRun, ios["id"])
        assert row is not None and row.requested_by is not None and row.requested_by.username == "ops"
        assert row.result_data["source"].startswith("backup #") and row.result_data["severity"] == "critical"
        assert row.result_data["remediation"] == ["no snmp-server community public RO"]

    for run in failing.values():
        execution_id, status = compliance.remediate(store, int(run["id"]), requested_by="ops")
        assert status == ExecutionStatus.COMPLETED, run
        with store.read_session() as session:
            remediated = session.get(m.ComplianceRun, run["id"])
            assert remediated is not None and remediated.remediation_execution_id == execution_id
            # The workflow's own confirming run read the device live and passed.
            confirming = session.scalars(
                select(m.ComplianceRun)
                .where(m.ComplianceRun.device_id == remediated.device_id, m.ComplianceRun.id > remediated.id)
                .order_by(m.ComplianceRun.id.desc())
            ).first()
            assert confirming is not None and confirming.status == ComplianceStatus.PASSED
            assert confirming.result_data["source"] == "live"

    live = compliance.compliance_run(store, checks=["snmp-no-default-communities"], live=True)
    assert set(_by_device(live.runs).values()) == {"passed"}


def test_ntp_intent_fails_then_remediation_makes_it_pass(lab_store: Store, lab: LabThread) -> None:
    store = lab_store
    servers = {"sqlite": ["10.255.1.1", "10.255.1.2"], "postgresql": ["10.255.2.1"]}[store.engine.dialect.name]
    # NX-OS prints `use-vrf default` after each server: the library check's line is not in its
    # configuration as written, so it is left out here.
    devices = [
        next(d.name for d in reversed(lab.devices) if d.platform_name == p) for p in PLATFORMS if p != "cisco_nxos"
    ]
    backup.backup_devices(store, devices)
    intent = {"ntp": {"servers": servers}}
    result = compliance.compliance_run(store, checks=["ntp-servers-configured"], devices=devices, intended=intent)
    assert set(_by_device(result.runs).values()) == {"failed"}
    junos = next(r for r in result.runs if r["device"] == devices[-1])
    assert junos["missing"] == [f"set system ntp server {s}" for s in servers]

    cli = run_cli(store, "compliance", "remediate", str(junos["id"]))
    assert cli.exit_code == 0, cli.stderr
    for run in result.runs[:-1]:
        assert compliance.remediate(store, int(run["id"]), requested_by="ops")[1] == ExecutionStatus.COMPLETED
    live = compliance.compliance_run(
        store, checks=["ntp-servers-configured"], devices=devices, intended=intent, live=True
    )
    assert set(_by_device(live.runs).values()) == {"passed"}
    # Without the intent the check cannot render: an error that says what is missing.
    bare = compliance.compliance_run(store, checks=["ntp-servers-configured"], devices=devices[:1])
    assert bare.runs[0]["status"] == "error" and "ntp" in str(bare.runs[0]["error"])
    with store.read_session() as session:
        error_run = session.get(m.ComplianceRun, bare.runs[0]["id"])
        assert error_run is not None and "--set" in error_run.result_data["hint"]


def test_report_scores_per_device_check_and_standard(lab_store: Store, lab: LabThread) -> None:
    store = lab_store
    names = [d.name for d in lab.devices[:4]]
    backup.backup_devices(store, names)
    ran = run_cli(
        store,
        "compliance",
        "run",
        *[a for n in names for a in ("--device", n)],
        "--set",
        "ntp.servers=[10.255.1.1]",
        "--json",
    )
    assert ran.exit_code == 1  # some checks fail on the lab's devices
    runs = json.loads(ran.stdout)
    assert len(runs) == 4 * 5 and {r["status"] for r in runs} <= {"passed", "failed"}

    data = json.loads(run_cli(store, "compliance", "report", "--json").stdout)
    assert {row["standard"] for row in data["standards"]} == {"CIS Benchmark", "DISA STIG"}
    for scope in ("devices", "checks", "standards"):
        for row in data[scope]:
            judged = row["passed"] + row["failed"] + row["error"]
            assert row["score"] == round(100 * row["passed"] / judged, 1)
    ssh = next(row for row in data["checks"] if row["check"] == "ssh-only-management")
    assert ssh["passed"] == 3 and ssh["failed"] == 1  # Junos lets root log in over SSH
    as_csv = list(csv.reader(io.StringIO(run_cli(store, "compliance", "report", "--csv").stdout)))
    assert as_csv[0][:3] == ["scope", "name", "check"] and as_csv[-1][0] == "overall"
    assert len([r for r in as_csv if r[0] == "run"]) == 20
    table = run_cli(store, "compliance", "report").stdout
    assert "overall score:" in table and "SCORE %" in table


class Cmdb(BaseHTTPRequestHandler):
    """A CMDB on loopback: GET /api/devices/NAME/ says whether NAME is monitored."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        name = self.path.strip("/").split("/")[-1]
        body = json.dumps({"name": name, "monitored": name.endswith("1")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def cmdb_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Cmdb)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_check_types_match_rules_and_missing_backups(lab_store: Store, lab: LabThread, cmdb_url: str) -> None:
    store = lab_store
    api_logic = (
        "provider: cmdb\nmethod: GET\npath: /api/devices/{{ device.name }}/\n"
        "expect: status == 200 and response.monitored\n"
    )
    with store.session() as session:
        session.add(m.DeviceRole(name="Core", slug="core"))
        http = m.Provider(name="http_api", driver_class="drivers.http_provider.HttpApiProvider")
        session.add(m.ProviderConfig(name="cmdb", provider=http, settings={"base_url": cmdb_url}))
        session.add_all(
            [
                m.ComplianceCheck(
                    name="Monitored", slug="via-api", check_type=CheckType.API_CALL, check_logic=api_logic
                ),
                m.ComplianceCheck(
                    name="Via GraphQL",
                    slug="via-graphql",
                    check_type=CheckType.GRAPHQL_QUERY,
                    check_logic="provider: nautobot\nquery: '{ devices { name } }'\nexpect: data.devices | length\n",
                ),
                m.ComplianceCheck(
                    name="Hook", slug="via-hook", check_type=CheckType.PYTHON_HOOK, check_logic="no_such_hook"
                ),
                m.ComplianceCheck(
                    name="Core only",
                    slug="core-only",
                    check_type=CheckType.CONFIG_TEMPLATE,
                    check_logic="hostname x\n",
                    severity=Severity.INFO,
                    match_rules={"roles": ["core"]},
                ),
            ]
        )
    device = lab.devices[0].name  # sw1: the CMDB says it is monitored
    checks = ["via-api", "via-graphql", "via-hook", "core-only"]
    result = compliance.compliance_run(store, checks=checks, devices=[device])
    assert [r["check"] for r in result.runs] == ["via-api", "via-graphql", "via-hook"]  # core-only: not a core switch
    statuses = {r["check"]: r["status"] for r in result.runs}
    # The API check asks the CMDB, not the device; the hook needs a configuration: none yet.
    assert statuses == {"via-api": "passed", "via-graphql": "error", "via-hook": "skipped"}
    errors = {r["check"]: r["error"] for r in result.runs}
    assert "no enabled provider config 'nautobot'" in str(errors["via-graphql"])
    other = compliance.compliance_run(store, checks=["via-api"], devices=[lab.devices[1].name])
    assert other.runs[0]["status"] == "failed"
    with store.read_session() as session:
        row = session.get(m.ComplianceRun, other.runs[0]["id"])
        assert row is not None and row.result_data["response"] == {"name": "sw2", "monitored": False}
        assert row.result_data["request"] == "GET /api/devices/sw2/"

    backup.backup_devices(store, [device])
    result = compliance.compliance_run(store, checks=["via-hook"], devices=[device])
    assert result.runs[0]["status"] == "error" and "not a registered hook" in str(result.runs[0]["error"])
    with store.session() as session:
        row = session.scalars(select(m.Device).where(m.Device.name == device)).one()
        row.role = session.scalars(select(m.DeviceRole).where(m.DeviceRole.slug == "core")).one()
    assert [r["check"] for r in compliance.compliance_run(store, checks=["core-only"]).runs] == ["core-only"]

    bad = run_cli(store, "compliance", "run", "--check", "no-such-check")
    assert bad.exit_code == 1 and "no compliance check 'no-such-check'" in bad.stderr
    passed = compliance.compliance_run(store, checks=["snmp-no-default-communities"], devices=[device])
    refused = run_cli(store, "compliance", "remediate", str(passed.runs[0]["id"]))
    assert refused.exit_code == 1 and "only a failed run is remediated" in refused.stderr


def test_backups_and_compliance_run_through_the_engine_as_schedules_do(lab_store: Store, lab: LabThread) -> None:
    store = lab_store
    names = [d.name for d in lab.devices[4:8]]
    schedule_id = add_schedule(
        store,
        "nightly-backup",
        "backup-all",
        ScheduleTrigger.CRON,
        "0 2 * * *",
        devices=names,
        inputs={},
        requested_by="ops",
    )
    assert schedule_id
    # What the engine does when the schedule fires: submit the workflow, run it.
    execution_id = submit(store, "backup-all", names, {}, requested_by="ops")
    assert asyncio.run(run_execution(store, execution_id)) == ExecutionStatus.COMPLETED
    assert sorted(r["device"] for r in backup.history(store, source="running")) == sorted(names)

    execution_id = submit(store, "compliance-run", names, {"checks": ["ssh-only-management"]}, requested_by="ops")
    assert asyncio.run(run_execution(store, execution_id)) == ExecutionStatus.COMPLETED
    with store.read_session() as session:
        runs = session.scalars(select(m.ComplianceRun)).all()
        assert sorted(r.device.name for r in runs if r.device) == sorted(names)
        assert {r.requested_by.username for r in runs if r.requested_by} == {"ops"}
