"""A configuration change on many lab devices: the engine (a workflow with its checks and
full records) against nornir + nornir_netmiko pushing the same lines, in the same run.

    python benchmarks/engine_fanout.py [--devices 500] [--workers 100] [--rounds N] [--profile FILE]
                                         [--workflows create-vlan,configure-switchport]

On a machine shared with other work, run it through benchmarks/ahead.sh (as root) so that
both paths get the CPU first; the load average is printed either way.

Two changes, each pushed by both: the built-in create-vlan workflow (validation, the
create-vlan task with its post-check, a notification) creates a VLAN on every switch; then
configure-switchport, the "Change VLAN" of issue 5 (the change-vlan task: a pre-check that the
VLAN exists, the port's configuration, two post-checks reading the port back, a notification;
its approval is given before the clock starts) moves a port to that VLAN. nornir only sends the
configuration lines, so the engine does more per device. Needs `pip install -e '.[bench]'`.
Target: the engine's fan-out at least 3x nornir+netmiko.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fanout import ENABLE, PASSWORD, cpu_seconds, nornir_for, start_lab, trust_keys  # noqa: E402  # noqa: E402

from catalog import models as m  # noqa: E402
from catalog.inventory_io import import_inventory_file  # noqa: E402
from catalog.models.choices import ExecutionStatus  # noqa: E402
from catalog.secrets import set_group_entries  # noqa: E402
from catalog.store import open_store  # noqa: E402
from catalog.sync import LIBRARY_DIR, import_catalog  # noqa: E402
from drivers.connect import prepare_devices  # noqa: E402
from nettui.engine.approvals import decide  # noqa: E402
from nettui.engine.runner import run_execution, submit  # noqa: E402

VID, NAME = 2345, "bench-vlan"


def run_nornir(tmp: Path, targets: list[Any], workers: int, lines: list[str]) -> int:
    from nornir_netmiko.tasks import netmiko_send_config

    nr = nornir_for(tmp, targets, workers)
    result = nr.run(task=netmiko_send_config, config_commands=lines)
    nr.close_connections()
    return sum(1 for r in result.values() if not r.failed)


PORT = "GigabitEthernet1/0/1"


def change(workflow: str, vid: int) -> tuple[dict[str, Any], list[str]]:
    """The engine's inputs (besides the device) and the lines nornir pushes for the same change:
    create-vlan creates VLAN ``vid``; configure-switchport puts a port on it (Change VLAN)."""
    if workflow == "create-vlan":
        return {"vid": vid, "name": NAME}, [f"vlan {vid}", f" name {NAME}"]
    return (
        {"interface": PORT, "mode": "access", "vlan": vid},
        [f"interface {PORT}", " switchport mode access", f" switchport access vlan {vid}"],
    )


Row = tuple[str, int, float, int, float, float, str]


def timed(label: str, round_: int, lab_pid: int, run: Callable[[], tuple[int, str]]) -> Row:
    """Run one path: wall seconds, devices changed, and the CPU it cost the lab and this process."""
    lab_cpu, started, own_cpu = cpu_seconds(lab_pid), time.perf_counter(), time.process_time()
    ok, status = run()
    elapsed = time.perf_counter() - started
    return (label, round_, elapsed, ok, cpu_seconds(lab_pid) - lab_cpu, time.process_time() - own_cpu, status)


def run_engine(
    store: Any, names: list[str], lab_pid: int, args: argparse.Namespace, round_: int, workflow: str, vid: int
) -> Row:
    inputs, _ = change(workflow, vid)
    execution = submit(store, workflow, names, {"device": names[0], **inputs}, requested_by="bench")
    if workflow == "configure-switchport":  # it needs approval: given before the clock starts
        assert asyncio.run(run_execution(store, execution)) == ExecutionStatus.AWAITING_APPROVAL
        decide(store, execution, "bench-approver", approve=True, comment="benchmark")

    def run() -> tuple[int, str]:
        engine_run = run_execution(store, execution, driver=args.driver, concurrency=args.concurrency)
        if args.profile and round_ == 1:
            import cProfile

            with cProfile.Profile() as profile:
                status = asyncio.run(engine_run)
            profile.dump_stats(f"{args.profile}.{workflow}")
        else:
            status = asyncio.run(engine_run)
        with store.read_session() as session:
            changed = session.get(m.Execution, execution).context.get("changed_devices", [])
        return len(changed), status.value

    label = f"nettui engine, {workflow} workflow ({args.driver}, {args.concurrency} at a time)"
    return timed(label, round_, lab_pid, run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--workers", type=int, default=100, help="nornir's threads")
    parser.add_argument("--concurrency", type=int, default=200, help="the engine's devices at a time")
    parser.add_argument("--driver", default="asyncssh", choices=["asyncssh", "scrapli", "netmiko"])
    parser.add_argument("--rounds", type=int, default=1, help="repeat both paths, in turn")
    parser.add_argument(
        "--workflows",
        type=lambda text: text.split(","),
        default=["create-vlan", "configure-switchport"],
        help="create-vlan (a VLAN on each switch), configure-switchport (a port moved to it: Change VLAN)",
    )
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the engine's run to FILE (slower)")
    parser.add_argument(
        "--engine-only", action="store_true", help="skip nornir (to profile the engine, e.g. under py-spy)"
    )
    args = parser.parse_args()
    if args.workflows not in (["create-vlan"], ["create-vlan", "configure-switchport"]):
        parser.error("--workflows: create-vlan, or create-vlan,configure-switchport (the port moves to that VLAN)")

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        lab, inventory = start_lab(tmp, args.devices)
        try:
            os.environ.update({"BENCH_USER": "admin", "BENCH_PASSWORD": PASSWORD, "BENCH_ENABLE": ENABLE})
            store = open_store(f"sqlite:///{tmp}/bench.db")
            import_catalog(store, [LIBRARY_DIR])
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
                import_inventory_file(session, inventory)
                session.add(m.User(username="bench", role="operator"))
                session.add(m.User(username="bench-approver", role="approver"))
            names = [f"sw{i + 1}" for i in range(args.devices)]
            prepared = prepare_devices(store, names)

            trust_keys(store, prepared)
            rows = []
            targets = [p.target for p in prepared]
            for round_ in range(1, args.rounds + 1):
                # Each path makes its own VLAN and moves the port to it: every device changes.
                engine_vid, nornir_vid = VID + 2 * round_, VID + 2 * round_ + 1
                for workflow in args.workflows:
                    rows.append(run_engine(store, names, lab.pid, args, round_, workflow, engine_vid))
                    if args.engine_only:
                        continue
                    lines = change(workflow, nornir_vid)[1]
                    rows.append(
                        timed(
                            f"nornir + nornir_netmiko, {workflow} lines ({args.workers} workers)",
                            round_,
                            lab.pid,
                            lambda lines=lines: (run_nornir(tmp, targets, args.workers, lines), "-"),
                        )
                    )
        finally:
            lab.terminate()
            lab.wait(30)

    print(f"\nCreate a VLAN, then move a port to it (Change VLAN), on {args.devices} lab devices (cisco_ios)\n")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores)")
    print(f"{'path':<72}{'round':>6}{'seconds':>9}{'changed':>9}{'devices/s':>11}{'lab CPU s':>11}{'own CPU s':>11}")
    for label, round_, elapsed, ok, lab_cpu, own_cpu, _ in rows:
        print(f"{label:<72}{round_:>6}{elapsed:>9.2f}{ok:>9}{ok / elapsed:>11.1f}{lab_cpu:>11.2f}{own_cpu:>11.2f}")
    for engine, nornir in [] if args.engine_only else zip(rows[::2], rows[1::2], strict=True):
        ratio = (engine[3] / engine[2]) / (nornir[3] / nornir[2])
        what = engine[0].split(",")[1].split("(")[0].strip()
        print(f"round {engine[1]}, {what}: engine / nornir+netmiko {ratio:.1f}x (target >= 3x); status {engine[6]}")


if __name__ == "__main__":
    main()
