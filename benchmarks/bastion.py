"""What the bastion adds: keystroke echo latency over 50 concurrent interactive sessions, and
the throughput of a 20,000-line ``show running-config``, through the bastion and directly to
the lab in the same run.

    python benchmarks/bastion.py [--sessions 50] [--keystrokes 40] [--loopbacks 5000]

The lab and the bastion each run in their own process (as in production: the bastion is its
own service); the clients are asyncssh sessions in this process, the same code for both paths.
Latency is the time from writing one character to reading its echo, typed at about ten keys
a second per session once every session is open. On a shared machine the tail (p99) mostly
measures other processes: the bastion is one more process to schedule per keystroke, and its
CPU per keystroke is printed as a figure that does not depend on them. The long configuration
comes from configuring loopbacks on sw1 (four lines of running-config each).
Targets: p99 added latency under 5 ms; throughput through the bastion at least half of direct.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncssh

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.fanout import ENABLE, PASSWORD, cpu_seconds, start_lab  # noqa: E402
from catalog import models as m  # noqa: E402
from catalog.inventory_io import import_inventory_file  # noqa: E402
from catalog.models.choices import UserRole  # noqa: E402
from catalog.secrets import set_group_entries  # noqa: E402
from catalog.store import open_store  # noqa: E402
from catalog.users import parse_ssh_key  # noqa: E402
from drivers.connect import prepare_devices  # noqa: E402
from tests.bastion_process import BastionProcess  # noqa: E402

PROMPT = b"#"
SETTLE_S = 2.0  # after the last login, before typing: the logins' own store writes are done by then


def start_bastion(tmp: Path, url: str) -> tuple[subprocess.Popen[bytes], int]:
    bastion = BastionProcess(url, tmp, "bastion", env={"NETTUI_DATA_DIR": str(tmp / "bastion-data")})
    return bastion.proc, bastion.port


class Echo(asyncssh.SSHClientSession[bytes]):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.event = asyncio.Event()

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self.buffer += data
        self.event.set()

    async def wait_for(self, needle: bytes, timeout: float = 30) -> None:
        async with asyncio.timeout(timeout):
            while needle not in self.buffer:
                self.event.clear()
                await self.event.wait()
        del self.buffer[: self.buffer.index(needle) + len(needle)]


async def connect_direct(host: str, port: int) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        host, port, username="admin", password=PASSWORD, known_hosts=None, client_keys=None, agent_path=None, config=[]
    )


async def connect_bastion(port: int, device: str, key: asyncssh.SSHKey) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        "127.0.0.1",
        port,
        username=f"bench%{device}",
        client_keys=[key],
        known_hosts=None,
        agent_path=None,
        config=[],
        password=None,
    )


async def echo_latencies(
    conn: asyncssh.SSHClientConnection, keystrokes: int, enable: bool, ready: asyncio.Barrier, marks: list[float]
) -> list[float]:
    chan, session = await conn.create_session(Echo, term_type="vt100", term_size=(200, 50), encoding=None)
    echo = session
    assert isinstance(echo, Echo)
    await echo.wait_for(b">" if enable else PROMPT)
    if enable:
        chan.write(b"enable\n")
        await echo.wait_for(b"Password:")
        chan.write(ENABLE.encode() + b"\n")
        await echo.wait_for(PROMPT)
    # Typing starts once every session is open and settled: logins (key exchanges, two per
    # session through the bastion, and their store writes) are not what is measured here.
    await ready.wait()
    await asyncio.sleep(SETTLE_S)
    if not marks:
        marks.append(time.perf_counter())  # typing starts now: a mark for CPU accounting
    await asyncio.sleep(0.1 * random.random())
    times = []
    for index in range(keystrokes):
        char = b"abcdefghij"[index % 10 : index % 10 + 1]
        started = time.perf_counter()
        chan.write(char)
        await echo.wait_for(char)
        times.append(time.perf_counter() - started)
        await asyncio.sleep(0.08 + 0.04 * random.random())  # a fast typist: about ten keys a second
    chan.write(b"\x15exit\n")
    chan.close()
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def latency_run(
    connect: object, devices: list[tuple[str, int]], keystrokes: int, enable: bool, pid: int | None = None
) -> tuple[list[float], float]:
    """Echo latencies of every keystroke, and the CPU seconds process ``pid`` spent while typing."""
    ready = asyncio.Barrier(len(devices))
    marks: list[float] = []
    cpu_at_start: list[float] = []

    async def cpu_mark() -> None:
        while not marks:
            await asyncio.sleep(0.01)
        if pid is not None:
            cpu_at_start.append(cpu_seconds(pid))

    async def one(device: tuple[str, int]) -> list[float]:
        conn = await connect(*device)  # type: ignore[operator]
        try:
            return await echo_latencies(conn, keystrokes, enable, ready, marks)
        finally:
            conn.close()

    marker = asyncio.create_task(cpu_mark())
    results = await asyncio.gather(*(one(d) for d in devices))
    await marker
    cpu = cpu_seconds(pid) - cpu_at_start[0] if pid is not None else 0.0
    return [t for r in results for t in r], cpu


async def configure_loopbacks(host: str, port: int, count: int) -> None:
    conn = await connect_direct(host, port)
    chan, echo = await conn.create_session(Echo, term_type="vt100", term_size=(200, 50), encoding=None)
    assert isinstance(echo, Echo)
    await echo.wait_for(b">")
    chan.write(f"enable\n{ENABLE}\nterminal length 0\nconfigure terminal\n".encode())
    batch = 25  # a batch, then its echo: the lab's line discipline takes type-ahead in small doses
    for start in range(0, count, batch):
        lines = []
        for i in range(start, min(count, start + batch)):
            lines += [
                f"interface Loopback{i}",
                f" description bench loopback {i}",
                f" ip address 10.{i // 250}.{i % 250}.1 255.255.255.255",
            ]
        chan.write(("\n".join(lines) + "\n").encode())
        await echo.wait_for(
            f"ip address 10.{(start + batch - 1) // 250}.{(start + batch - 1) % 250}.1".encode()
            if start + batch <= count
            else f"Loopback{count - 1}".encode(),
            timeout=120,
        )
    chan.write(b"end\n")
    await asyncio.sleep(0.5)
    conn.close()


async def show_run(conn: asyncssh.SSHClientConnection, enable: bool, rounds: int = 3) -> tuple[float, int, int]:
    """The fastest of ``rounds`` interactive ``show running-config``: from Enter to the prompt
    after the last line, in an open session (what a user waits for)."""
    chan, echo = await conn.create_session(Echo, term_type="vt100", term_size=(200, 50), encoding=None)
    assert isinstance(echo, Echo)
    await echo.wait_for(b">" if enable else PROMPT)
    if enable:
        chan.write(f"enable\n{ENABLE}\n".encode())
        await echo.wait_for(PROMPT)
    chan.write(b"terminal length 0\n")
    await echo.wait_for(b"0\r\n")
    await echo.wait_for(PROMPT)
    best = (float("inf"), 0, 0)
    for _ in range(rounds):
        echo.buffer.clear()
        started = time.perf_counter()
        chan.write(b"show running-config\n")
        await echo.wait_for(b"\nend\r\n", timeout=120)
        await echo.wait_for(PROMPT)
        elapsed = time.perf_counter() - started
        if elapsed < best[0]:
            best = (elapsed, 0, 0)
    chan.write(b"exit\n")
    chan.close()
    return best


async def run(args: argparse.Namespace, tmp: Path) -> None:
    lab, inventory = start_lab(tmp, args.sessions)
    bastion = None
    try:
        os.environ.update({"BENCH_USER": "admin", "BENCH_PASSWORD": PASSWORD, "BENCH_ENABLE": ENABLE})
        url = f"sqlite:///{tmp}/bench.db"
        store = open_store(url)
        with store.session() as session:
            set_group_entries(
                session,
                "lab",
                {"username": "env:BENCH_USER", "password": "env:BENCH_PASSWORD", "enable_secret": "env:BENCH_ENABLE"},
            )
        with store.session() as session:
            import_inventory_file(session, inventory)
        key = asyncssh.generate_private_key("ssh-ed25519")
        parsed = parse_ssh_key(key.export_public_key().decode())
        with store.session() as session:
            user = m.User(username="bench", role=UserRole.ADMIN)
            user.ssh_keys.append(
                m.SshPublicKey(key_type=parsed.key_type, public_key=parsed.public_key, fingerprint=parsed.fingerprint)
            )
            session.add(user)
        prepared = prepare_devices(store, [f"sw{i + 1}" for i in range(args.sessions)])
        targets = [(p.target.host, p.target.port) for p in prepared]
        names = [p.target.name for p in prepared]
        bastion, port = start_bastion(tmp, url)

        print(f"{args.sessions} concurrent interactive sessions, {args.keystrokes} keystrokes each")
        # Warm-up, then alternate the two paths, so that neither gets a quieter machine.
        direct: list[float] = []
        through: list[float] = []
        bastion_cpu = 0.0  # the bastion process's CPU while sessions type
        for round_no in range(args.rounds):
            direct += (await latency_run(connect_direct, targets, args.keystrokes, enable=True))[0]
            times, cpu = await latency_run(
                lambda name: connect_bastion(port, name, key),
                [(n,) for n in names],
                args.keystrokes,
                enable=False,
                pid=bastion.pid,
            )
            through += times
            bastion_cpu += cpu
            print(f"  round {round_no + 1} done", file=sys.stderr)
        rows = []
        for label, values in (("direct", direct), ("bastion", through)):
            rows.append((label, percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000, len(values)))
            print(
                f"  {label:8} echo p50 {rows[-1][1]:6.2f} ms   p99 {rows[-1][2]:6.2f} ms   ({len(values)} keystrokes)"
            )
        print(f"  added by the bastion: p50 {rows[1][1] - rows[0][1]:+.2f} ms   p99 {rows[1][2] - rows[0][2]:+.2f} ms")
        per_key = bastion_cpu / len(through) * 1e6  # both directions and the recording
        print(f"  bastion CPU per keystroke relayed: {per_key:.0f} us; load average now {os.getloadavg()[0]:.1f}")

        await configure_loopbacks(*targets[0], args.loopbacks)
        probe = await connect_direct(*targets[0])
        config = (await probe.run("show running-config", encoding=None)).stdout or b""
        probe.close()
        lines, size = config.count(b"\n"), len(config)
        print(f"show running-config on sw1 ({lines} lines, {size / 1e6:.2f} MB), typed in an open session, best of 3")
        best: dict[str, float] = {}
        for label in ("direct", "bastion", "direct", "bastion"):
            conn = await (connect_direct(*targets[0]) if label == "direct" else connect_bastion(port, names[0], key))
            try:
                elapsed = (await show_run(conn, enable=label == "direct"))[0]
            finally:
                conn.close()
            best[label] = min(best.get(label, elapsed), elapsed)
        for label, elapsed in best.items():
            print(
                f"  {label:8} {elapsed * 1000:6.0f} ms: {lines / elapsed:,.0f} lines/s, {size / elapsed / 1e6:.1f} MB/s"
            )
        ratio = best["direct"] / best["bastion"]
        print(f"  bastion throughput / direct: {ratio:.2f}")
    finally:
        for proc in (bastion, lab):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--keystrokes", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--loopbacks", type=int, default=5000, help="4 lines of running-config each")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as name:
        asyncio.run(run(args, Path(name)))


if __name__ == "__main__":
    main()
