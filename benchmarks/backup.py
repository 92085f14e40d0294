"""Configuration backups of many lab devices: `nettui backup run` (collect running and startup
configuration, clean, validate, store what changed) against nornir + nornir_netmiko collecting
the same two configurations, in the same run against the same lab.

    python benchmarks/backup.py [--devices 500] [--workers 100] [--driver asyncssh] [--facts]

Rows: the first nettui run (every configuration is new: all stored), a second one (nothing
changed: nothing stored), and nornir+netmiko, which only collects (nothing cleaned or stored).
The lab (cisco_ios devices) runs in its own process on this machine; see benchmarks/fanout.py
for how it is started and why it acknowledges TCP segments at once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.fanout import ENABLE, PASSWORD, nornir_for, start_lab, trust_keys  # noqa: E402
from catalog.inventory_io import import_inventory_file  # noqa: E402
from catalog.secrets import set_group_entries  # noqa: E402
from catalog.store import open_store  # noqa: E402
from drivers.connect import prepare_devices  # noqa: E402
from nettui.lifecycle.backup import run_backups  # noqa: E402


def run_nornir(tmp: Path, targets: list[Any], workers: int) -> tuple[float, int]:
    """nornir + netmiko: running and startup configuration of every device, kept in memory."""
    from nornir.core.task import Result, Task
    from nornir_netmiko.tasks import netmiko_send_command

    def collect(task: Task) -> Result:
        running = task.run(task=netmiko_send_command, command_string="show running-config", enable=True)
        startup = task.run(task=netmiko_send_command, command_string="show startup-config", enable=True)
        return Result(host=task.host, result={"running": running.result, "startup": startup.result})

    nr = nornir_for(tmp, targets, workers)
    started = time.perf_counter()
    result = nr.run(task=collect)
    elapsed = time.perf_counter() - started
    nr.close_connections()
    return elapsed, sum(1 for r in result.values() if not r.failed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--workers", type=int, default=100, help="nornir's threads")
    parser.add_argument("--driver", default="asyncssh", choices=["asyncssh", "scrapli", "netmiko"])
    parser.add_argument("--concurrency", type=int, default=None, help="nettui's sessions at a time")
    parser.add_argument("--facts", action="store_true", help="nettui also records show version (one more command)")
    parser.add_argument("--skip-nornir", action="store_true")
    args = parser.parse_args()

    rows: list[tuple[str, float, int, int]] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        lab, inventory = start_lab(tmp, args.devices)
        try:
            os.environ.update({"BENCH_USER": "admin", "BENCH_PASSWORD": PASSWORD, "BENCH_ENABLE": ENABLE})
            store = open_store(f"sqlite:///{tmp}/bench.db")
            with store.session() as session:
                set_group_entries(
                    session,
                    "lab",
                    {
                        "username": "env:BENCH_USER",
                        "password": "env:BENCH_PASSWORD",
                        "enable_secret": "env:BENCH_ENABLE",
                    },
                )
            with store.session() as session:
                import_inventory_file(session, inventory)
            prepared = prepare_devices(store, [f"sw{i + 1}" for i in range(args.devices)])
            names = [p.target.name for p in prepared]
            trust_keys(store, prepared)

            for label in ("nettui backup run (first: all stored)", "nettui backup run (again: none changed)"):
                started = time.perf_counter()
                run = asyncio.run(
                    run_backups(store, names, driver=args.driver, concurrency=args.concurrency, facts=args.facts)
                )
                elapsed = time.perf_counter() - started
                stored = sum(len(d.stored) for d in run.devices)
                rows.append((f"{label} [{args.driver}]", elapsed, len(run.devices) - len(run.failed), stored))
                if run.failed:
                    print(f"  {len(run.failed)} failed, e.g. {run.failed[0].error}", file=sys.stderr)
            if not args.skip_nornir:
                elapsed, ok = run_nornir(tmp, [p.target for p in prepared], args.workers)
                rows.append((f"nornir + nornir_netmiko ({args.workers} workers)", elapsed, ok, 0))
        finally:
            lab.terminate()
            lab.wait(30)
    load_after = os.getloadavg()
    print(
        f"\n{args.devices} lab devices (cisco_ios), running + startup configuration each"
        f"{' + show version' if args.facts else ''}; {os.cpu_count()} CPUs; load average "
        f"{' '.join(f'{x:.2f}' for x in load_before)} before, {' '.join(f'{x:.2f}' for x in load_after)} after\n"
    )
    print(f"{'path':<58}{'seconds':>9}{'ok':>6}{'stored':>8}{'devices/s':>11}")
    for label, elapsed, ok, stored in rows:
        print(f"{label:<58}{elapsed:>9.2f}{ok:>6}{stored:>8}{ok / elapsed:>11.1f}")
    if not args.skip_nornir:
        nornir_rate = rows[-1][2] / rows[-1][1]
        print(f"\nfirst nettui run: {rows[0][2] / rows[0][1] / nornir_rate:.1f}x nornir+netmiko")


if __name__ == "__main__":
    main()
