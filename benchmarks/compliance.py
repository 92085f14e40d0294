"""Compliance at scale: 10,000 stored configurations x 10 checks, checks per second.

    python benchmarks/compliance.py [--devices 10000] [--database URL]

The configurations are what the lab's four platforms print (collected once over SSH from a
small lab), varied per device: its own hostname, NTP servers on a third of them, the default
SNMP community on one in seven, so that checks pass and fail. The ten checks are the five of
the built-in library and five more in the same style. The run is `nettui compliance run`
against the latest backups (no device contact): contexts from the store, rendering, netutils
comparison, hier-config remediation for the failures, and 100,000 ComplianceRun rows written.
Target: the whole run under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from catalog import models as m  # noqa: E402
from catalog.models.choices import BackupType, CheckType, Severity  # noqa: E402
from catalog.secrets import Secret  # noqa: E402
from catalog.store import open_store  # noqa: E402
from catalog.sync import LIBRARY_DIR, import_catalog  # noqa: E402
from drivers.asyncssh_provider import AsyncsshProvider  # noqa: E402
from drivers.base import Credentials, DeviceTarget  # noqa: E402
from nettui.lab import run_lab_in_thread  # noqa: E402
from nettui.lifecycle.backup import digest  # noqa: E402
from nettui.lifecycle.compliance import run_compliance  # noqa: E402
from nettui.lifecycle.configtext import clean_config  # noqa: E402
from tests.bulk_inventory import PLATFORMS, add_bulk_devices  # noqa: E402

EXTRA_CHECKS = {
    "domain-name": """{% set d = device.platform.network_driver %}
{% if d == "cisco_ios" %}
ip domain name lab.example
{% elif d == "juniper_junos" %}
set system domain-name lab.example
{% else %}
ip domain-name lab.example
{% endif %}
""",
    "hostname-is-inventory-name": """{% set d = device.platform.network_driver %}
{% if d == "juniper_junos" %}
set system host-name {{ device.name }}
{% else %}
hostname {{ device.name }}
{% endif %}
""",
    "no-http-server": """{% set d = device.platform.network_driver %}
{% if d == "cisco_ios" %}
no ip http server
no ip http secure-server
{% elif d == "cisco_nxos" %}
no feature nxapi
{% elif d == "arista_eos" %}
no management api http-commands
{% else %}
delete system services web-management
{% endif %}
""",
    "lldp-enabled": """{% set d = device.platform.network_driver %}
{% if d == "cisco_nxos" %}
feature lldp
{% elif d == "juniper_junos" %}
set protocols lldp interface all
{% else %}
lldp run
{% endif %}
""",
    "ssh-service": """{% set d = device.platform.network_driver %}
{% if d == "cisco_ios" %}
ip ssh version 2
{% elif d == "cisco_nxos" %}
feature ssh
{% elif d == "arista_eos" %}
management ssh
{% else %}
set system services ssh
{% endif %}
""",
}


def lab_configs() -> dict[str, str]:
    """One running configuration per platform, as the lab prints it."""
    drivers = [d for _, _, d in PLATFORMS]
    with run_lab_in_thread(devices=4, platforms=drivers, password="pw", enable_secret="en") as lab:

        async def collect() -> dict[str, str]:
            out = {}
            for device in lab.devices:
                target = DeviceTarget(
                    device.name,
                    device.host,
                    device.port,
                    device.platform_name,
                    Credentials(Secret("admin"), Secret("pw"), Secret("en")),
                )
                async with AsyncsshProvider(target) as provider:
                    out[device.platform_name] = await provider.get_config("running")
            return out

        return asyncio.run(collect())


def varied(base: str, driver: str, name: str, n: int) -> str:
    hostname = "set system host-name " if driver == "juniper_junos" else "hostname "
    lines = [hostname + name if line.startswith(hostname) else line for line in base.splitlines()]
    extra = []
    if n % 3 == 0:
        servers = ["10.255.1.1", "10.255.1.2"]
        extra += [f"set system ntp server {s}" if driver == "juniper_junos" else f"ntp server {s}" for s in servers]
    if n % 7 == 0:
        extra.append(
            "set snmp community public authorization read-only"
            if driver == "juniper_junos"
            else "snmp-server community public RO"
        )
    if driver in ("cisco_ios", "arista_eos") and lines and lines[-1] == "end":
        lines = lines[:-1] + extra + ["end"]
    else:
        lines += extra
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--database", help="store URL (default: a new SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as name:
        os.environ["NETTUI_DATA_DIR"] = str(Path(name) / "data")
        store = open_store(args.database or f"sqlite:///{name}/bench.db")
        t0 = time.perf_counter()
        import_catalog(store, [LIBRARY_DIR])
        add_bulk_devices(store, args.devices)
        with store.session() as session:
            session.execute(
                insert(m.ComplianceCheck),
                [
                    {
                        "name": slug.replace("-", " ").capitalize(),
                        "slug": slug,
                        "check_type": CheckType.CONFIG_TEMPLATE,
                        "standard": "custom",
                        "severity": Severity.WARNING,
                        "check_logic": logic,
                        "match_rules": {},
                    }
                    for slug, logic in EXTRA_CHECKS.items()
                ],
            )
        bases = lab_configs()
        with store.session() as session:
            devices = session.execute(
                select(m.Device.id, m.Device.name, m.Platform.network_driver).join(m.Platform).order_by(m.Device.id)
            ).all()
            rows = []
            for n, (device_id, device_name, driver) in enumerate(devices):
                text = clean_config(varied(bases[driver], driver, device_name, n), driver).text
                rows.append(
                    {
                        "device_id": device_id,
                        "backup_type": BackupType.CONFIG,
                        "backup_data": text,
                        "backup_method": "benchmark",
                        "validated": True,
                        "restore_count": 0,
                        "metadata_": {"source": "running", "sha256": digest(text), "network_driver": driver},
                    }
                )
            for start in range(0, len(rows), 2000):
                session.execute(insert(m.BackupRecord), rows[start : start + 2000])
        setup = time.perf_counter() - t0
        with store.read_session() as session:
            checks = session.scalar(select(func.count()).select_from(m.ComplianceCheck))

        cpu0 = time.process_time()
        started = time.perf_counter()
        result = asyncio.run(run_compliance(store, intended={"ntp": {"servers": ["10.255.1.1", "10.255.1.2"]}}))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu0
        with store.read_session() as session:
            stored = session.scalar(select(func.count()).select_from(m.ComplianceRun))
    print(
        f"\n{args.devices} devices with a stored configuration x {checks} checks; setup {setup:.1f} s; "
        f"{os.cpu_count()} CPUs; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n"
    )
    print(result.summary())
    print(
        f"{len(result.runs)} runs ({stored} rows stored) in {elapsed:.1f} s: {len(result.runs) / elapsed:.0f} checks/s"
    )
    print(f"CPU {cpu:.1f} s in this process; target: the whole run under 60 s ({'met' if elapsed < 60 else 'NOT met'})")


if __name__ == "__main__":
    main()
