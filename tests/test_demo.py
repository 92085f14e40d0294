"""`nettui demo --no-tui` as a newcomer would run it: a real process with a real lab on
127.0.0.1, used from "another terminal" (more nettui processes) and stopped with Ctrl-C."""

from __future__ import annotations

import os
import re
import select
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select as sql_select

from catalog import models as m
from catalog.models.choices import ExecutionStatus
from catalog.store import Store

pytestmark = pytest.mark.slow

NETTUI = str(Path(sys.executable).parent / "nettui")


class DemoProcess:
    """A running `nettui demo`, with what it has printed so far."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("NETTUI_")}
        env["NETTUI_DATA_DIR"] = str(data_dir)
        self.env = env
        self.process = subprocess.Popen(
            [NETTUI, "demo", "--no-tui", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: nothing it starts may outlive it
        )
        self.output = ""

    def read_until(self, done: Callable[[], bool], timeout: float) -> bool:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    break
                self.output += chunk.decode("utf-8", "replace")
        return done()

    @property
    def database_url(self) -> str:
        found = re.search(r"export NETTUI_DATABASE_URL=(\S+)", self.output)
        assert found, self.output
        return found.group(1)

    def nettui(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Another terminal: nettui on the demo's store."""
        env = {**self.env, "NETTUI_DATABASE_URL": self.database_url}
        return subprocess.run([NETTUI, *args], env=env, capture_output=True, text=True, timeout=120, check=False)

    def group_alive(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoProcess]:
    process = DemoProcess(tmp_path / "data", "--devices", "8")
    try:
        ready = process.read_until(lambda: "demo ready" in process.output, timeout=120)
        assert ready, f"the demo did not get ready within 120 s:\n{process.output}"
        yield process
    finally:
        process.stop()


def wait_for_status(store: Store, execution_id: int, wanted: set[ExecutionStatus], timeout: float) -> ExecutionStatus:
    deadline = time.monotonic() + timeout
    while True:
        with store.read_session() as session:
            execution = session.get(m.Execution, execution_id)
            assert execution is not None
            status = execution.status
        if status in wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.3)


def test_demo_seeds_a_store_of_its_own_runs_workflows_and_stops_on_ctrl_c(demo: DemoProcess, tmp_path: Path) -> None:
    # A store of its own under the data directory's demo/ folder.
    url = demo.database_url
    demo_dir = Path(url.removeprefix("sqlite:///")).parent
    assert demo_dir.parent == tmp_path / "data" / "demo"
    assert not (tmp_path / "data" / "nettui.db").exists()  # the user's own store is never touched

    store = Store(url)
    try:
        with store.read_session() as session:
            devices = session.scalars(sql_select(m.Device).order_by(m.Device.name)).all()
            assert len(devices) == 8
            assert {d.platform.network_driver for d in devices if d.platform} == {
                "cisco_ios",
                "cisco_nxos",
                "arista_eos",
                "juniper_junos",
            }
            assert {d.location.name for d in devices if d.location} == {"London", "Paris", "Frankfurt"}
            users = {u.username: u.role.value for u in session.scalars(sql_select(m.User))}
            assert users["alice"] == "operator" and users["bob"] == "approver"
            assert "admin" in users.values()
            assert session.scalar(sql_select(m.Workflow).where(m.Workflow.slug == "provision-access-port"))
            vids = session.scalars(sql_select(m.VLAN.vid).join(m.Location).where(m.Location.name == "London")).all()
            assert sorted(vids) == [10, 20, 30, 99]
            # Credentials: references to files only the user can read; the store holds no secret.
            (group,) = session.scalars(sql_select(m.SecretsGroup)).all()
            assert {e.backend.value for e in group.entries} == {"file"}
            password_file = Path(next(e.reference for e in group.entries if e.name == "password"))
            assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
            # Every device's host key is trusted already.
            assert len(session.scalars(sql_select(m.DeviceHostKey)).all()) == 8
        password = password_file.read_text().strip()
        for path in demo_dir.glob("nettui.db*"):
            assert password.encode() not in path.read_bytes()
        assert password not in demo.output

        # The lab answers, through the store's credentials.
        shown = demo.nettui("device", "run", "lon-acc1", "show version")
        assert shown.returncode == 0, shown.stderr
        assert "Hostname: lon-acc1" in shown.stdout  # a Junos switch, by the demo's plan

        # A workflow against a demo device: the demo's engine runs what another terminal submits.
        ran = demo.nettui("run", "create-vlan", "--device", "lon-acc2", "--input", "device=lon-acc2",
                          "--input", "vid=42", "--input", "name=DEMO42")  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        execution_id = int(re.findall(r"execution (\d+)", ran.stderr)[0])
        final = {ExecutionStatus.COMPLETED, ExecutionStatus.FAILED}
        assert wait_for_status(store, execution_id, final, timeout=60) == ExecutionStatus.COMPLETED, demo.output
        vlans = demo.nettui("device", "run", "lon-acc2", "show vlan brief")
        assert "DEMO42" in vlans.stdout, vlans.stdout
    finally:
        store.dispose()

    # Ctrl-C stops the lab and the engine, and the demo directory goes.
    os.killpg(demo.process.pid, signal.SIGINT)
    assert demo.process.wait(timeout=30) == 0, demo.output
    demo.read_until(lambda: "demo stopped" in demo.output, timeout=5)
    assert "demo stopped" in demo.output
    assert not demo.group_alive()
    assert not demo_dir.exists()


def test_keep_leaves_the_store_after_the_demo_stops(tmp_path: Path) -> None:
    demo = DemoProcess(tmp_path / "data", "--devices", "4", "--keep")
    try:
        assert demo.read_until(lambda: "demo ready" in demo.output, timeout=120), demo.output
        url = demo.database_url
        demo.process.send_signal(signal.SIGTERM)
        assert demo.process.wait(timeout=30) == 0, demo.output
        demo.read_until(lambda: "store is kept" in demo.output, timeout=5)
        assert f"the store is kept at {url}" in demo.output
        assert not demo.group_alive()
        store = Store(url)
        try:
            with store.read_session() as session:
                assert len(session.scalars(sql_select(m.Device)).all()) == 4
        finally:
            store.dispose()
    finally:
        demo.stop()
