"""`show running-config` from many lab devices: nettui's async path (asyncssh), nettui through
scrapli and through netmiko, and nornir + nornir_netmiko, in the same run against the same lab.

    python benchmarks/fanout.py [--devices 500] [--concurrency N] [--workers 100] [--rounds 3]
                                [--paths asyncssh,scrapli,netmiko,nornir] [--lab-delayed-ack]

Each row gives devices per second and the CPU that each device cost, in milliseconds: in the
lab process (from /proc) and in this process (the client, its threads included). The machine
may be shared: the load average is printed, and --rounds repeats every path, in turn, so that
each figure has neighbours measured under the same load. The first path of the first round
also pays for the lab creating each device's state on its first login (about 0.1 ms each).

The lab runs in its own process on this machine (its CPU counts against everyone equally).
It acknowledges TCP segments at once (TCP_QUICKACK, see nettui/lab/server.py): neither
libssh2 (scrapli) nor paramiko (netmiko) turns Nagle's algorithm off, and against the kernel's
delayed ACKs both stall about 40 ms several times per login. --lab-delayed-ack measures
with the kernel's default instead.
nornir and nornir_netmiko come from the `bench` extra: pip install -e '.[bench]'.
Targets: nettui's async path at least 3x nornir+netmiko, and at least 100 devices/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.inventory_io import import_inventory_file  # noqa: E402
from catalog.secrets import set_group_entries  # noqa: E402
from catalog.store import open_store  # noqa: E402
from drivers.connect import prepare_devices  # noqa: E402
from drivers.fanout import for_each_device  # noqa: E402
from drivers.trust import fetch_host_key, store_host_key  # noqa: E402

PASSWORD = "bench-pw"
ENABLE = "bench-enable"


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_lab(tmp: Path, devices: int, *, delayed_ack: bool = False) -> tuple[subprocess.Popen[str], Path]:
    inventory = tmp / "lab.yaml"
    env = {**os.environ, "NETTUI_DATA_DIR": str(tmp / "lab-data")}
    if delayed_ack:
        env["NETTUI_LAB_QUICK_ACK"] = "0"
    command = [
        sys.executable,
        "-m",
        "nettui.cli",
        "lab",
        "start",
        "--devices",
        str(devices),
        "--platforms",
        "cisco_ios",
        "--base-port",
        "0",
        "--inventory-out",
        str(inventory),
        "--state-dir",
        str(tmp / "lab-state"),
        "--password",
        PASSWORD,
        "--enable-secret",
        ENABLE,
    ]
    log = tmp / "lab.log"  # a file, not a pipe: a full pipe would stall the lab mid-benchmark
    with log.open("w") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the lab exited early (code {proc.returncode}):\n{log.read_text()[-2000:]}")
        if "lab ready" in log.read_text():
            return proc, inventory
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the lab did not get ready within 120 s")


def nornir_for(tmp: Path, targets: list[Any], workers: int) -> Any:
    """nornir with the threaded runner over the lab devices (cisco_ios, with their enable secret)."""
    import yaml
    from nornir import InitNornir

    hosts = {
        t.name: {
            "hostname": t.host,
            "port": t.port,
            "username": "admin",
            "password": PASSWORD,
            "platform": "cisco_ios",
            "connection_options": {"netmiko": {"extras": {"secret": ENABLE}}},
        }
        for t in targets
    }
    (tmp / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    return InitNornir(
        runner={"plugin": "threaded", "options": {"num_workers": workers}},
        inventory={"plugin": "SimpleInventory", "options": {"host_file": str(tmp / "hosts.yaml")}},
        logging={"enabled": False},
    )


def trust_keys(store: Any, prepared: list[Any]) -> None:
    """Trust every device's host key once, as a first connection would (TOFU)."""

    async def trust() -> None:
        limit = asyncio.Semaphore(50)

        async def one(p: Any) -> None:
            async with limit:
                key = await fetch_host_key(p.target.name, p.target.host, p.target.port, 15)
            with store.session() as session:
                store_host_key(session, p.device_id, key)

        await asyncio.gather(*(one(p) for p in prepared))

    asyncio.run(trust())


def run_nornir(tmp: Path, targets: list[Any], workers: int) -> tuple[float, int]:
    from nornir_netmiko.tasks import netmiko_send_command

    nr = nornir_for(tmp, targets, workers)
    started = time.perf_counter()
    result = nr.run(task=netmiko_send_command, command_string="show running-config", enable=True)
    elapsed = time.perf_counter() - started
    nr.close_connections()
    return elapsed, sum(1 for r in result.values() if not r.failed)


PATHS = ("asyncssh", "scrapli", "netmiko", "nornir")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="nettui's sessions at a time (default: the driver's, see drivers/fanout.py)",
    )
    parser.add_argument("--workers", type=int, default=100, help="nornir's threads")
    parser.add_argument(
        "--paths",
        default=",".join(PATHS),
        help=f"which paths to measure, in this order (default: {','.join(PATHS)})",
    )
    parser.add_argument("--rounds", type=int, default=1, help="measure every path this many times, in turn")
    parser.add_argument("--skip-nornir", action="store_true")
    parser.add_argument(
        "--lab-delayed-ack", action="store_true", help="the lab keeps the kernel's delayed ACKs (slower logins)"
    )
    args = parser.parse_args()
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    unknown = sorted(set(paths) - set(PATHS))
    if unknown:
        parser.error(f"unknown path(s) {', '.join(unknown)}: choose from {', '.join(PATHS)}")
    if args.skip_nornir:
        paths = [p for p in paths if p != "nornir"]

    from drivers.fanout import DEFAULT_CONCURRENCY

    def label(path: str) -> str:
        if path == "nornir":
            return f"nornir + nornir_netmiko ({args.workers} workers)"
        n = args.concurrency or DEFAULT_CONCURRENCY[path]
        if path == "asyncssh":
            return f"nettui async (asyncssh, {n} at a time)"
        if path == "scrapli":
            return f"nettui scrapli ({n} at a time)"
        return f"nettui netmiko ({n} threads)"

    load_before = os.getloadavg()
    rows: list[tuple[str, int, float, int, float, float]] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        lab, inventory = start_lab(tmp, args.devices, delayed_ack=args.lab_delayed_ack)
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

            # Trust on first use, once: later sessions check the stored key inside the client.
            t0 = time.perf_counter()
            trust_keys(store, prepared)
            trust_s = time.perf_counter() - t0

            def measure(path: str, round_no: int, run: Any) -> None:
                lab_cpu = cpu_seconds(lab.pid)
                own_cpu = time.process_time()
                started = time.perf_counter()
                ok = run()
                elapsed = time.perf_counter() - started
                rows.append(
                    (path, round_no, elapsed, ok, cpu_seconds(lab.pid) - lab_cpu, time.process_time() - own_cpu)
                )

            def nettui_path(driver: str) -> Any:
                def run() -> int:
                    outcomes = asyncio.run(
                        for_each_device(
                            store, names, lambda p: p.get_config(), driver=driver, concurrency=args.concurrency
                        )
                    )
                    failed = [o for o in outcomes if not o.ok]
                    if failed:
                        print(f"  {driver}: {len(failed)} failed, e.g. {failed[0].error}", file=sys.stderr)
                    return len(outcomes) - len(failed)

                return run

            def nornir_run() -> int:
                return run_nornir(tmp, [p.target for p in prepared], args.workers)[1]

            for round_no in range(1, args.rounds + 1):
                for path in paths:
                    measure(path, round_no, nornir_run if path == "nornir" else nettui_path(path))
        finally:
            lab.terminate()
            lab.wait(30)
    load_after = os.getloadavg()

    acks = "delayed ACKs (kernel default)" if args.lab_delayed_ack else "quick ACKs"
    print(
        f"\n{args.devices} lab devices (cisco_ios), show running-config each; lab with {acks}; "
        f"host keys trusted first in {trust_s:.2f} s; {os.cpu_count()} CPUs; load average "
        f"{' '.join(f'{x:.2f}' for x in load_before)} before, {' '.join(f'{x:.2f}' for x in load_after)} after\n"
    )
    print(f"{'path':<44}{'round':>6}{'seconds':>9}{'ok':>6}{'devices/s':>11}{'lab ms/dev':>12}{'client ms/dev':>15}")
    for path, round_no, elapsed, ok, lab_cpu, own_cpu in rows:
        per = 1000 / max(ok, 1)
        print(
            f"{label(path):<44}{round_no:>6}{elapsed:>9.2f}{ok:>6}{ok / elapsed:>11.1f}"
            f"{lab_cpu * per:>12.2f}{own_cpu * per:>15.2f}"
        )
    rate = {(path, r): ok / elapsed for path, r, elapsed, ok, _, _ in rows}
    if "nornir" in paths:
        print()
        for round_no in range(1, args.rounds + 1):
            nornir_rate = rate[("nornir", round_no)]
            ratios = [
                f"{label(p).split(' (')[0]} {rate[(p, round_no)] / nornir_rate:.1f}x" for p in paths if p != "nornir"
            ]
            print(f"round {round_no}, against nornir+netmiko: {'; '.join(ratios)}")
    if "asyncssh" in paths:
        figures = sorted(rate[("asyncssh", r)] for r in range(1, args.rounds + 1))
        median = figures[len(figures) // 2]
        line = f"\nnettui async: median {median:.0f} devices/s (target >= 100)"
        if "nornir" in paths:
            ratios = sorted(rate[("asyncssh", r)] / rate[("nornir", r)] for r in range(1, args.rounds + 1))
            line += f", median {ratios[len(ratios) // 2]:.1f}x nornir+netmiko (target >= 3x)"
        print(line)


if __name__ == "__main__":
    main()
