"""The bastion, driven by the real OpenSSH client through a pseudo-terminal, to lab devices."""

from __future__ import annotations

import dataclasses
import fcntl
import getpass
import json
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select as sql_select

from bastion.policy import BastionPolicy
from bastion.recording import Redactor, SessionRecorder, read_asciicast
from bastion.server import BastionThread
from bastion.sessions import BASTION_STALE_S, get_session, list_sessions
from catalog import models as m
from catalog.models.choices import UserRole
from catalog.store import Store
from catalog.users import parse_ssh_key
from nettui.lab import LabThread, run_lab_in_thread
from tests.bastion_process import BastionProcess
from tests.conftest import run_cli
from tests.lab_store import seed_lab_store

PASSWORD = "Lab-Pass-7731"  # the lab devices' login password, must never be recorded
ENABLE = "Lab-Enable-4410"
TYPED_WRONG = "typed-at-prompt-9921"  # what the user types at a password prompt


@dataclasses.dataclass
class Keys:
    alice: Path
    mallory: Path
    known_hosts: Path


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(devices=2, platforms=["cisco_ios"], password=PASSWORD, enable_secret=ENABLE) as handle:
        yield handle


def _keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    return Keys(_keygen(tmp_path / "alice"), _keygen(tmp_path / "mallory"), tmp_path / "known_hosts")


@pytest.fixture
def backend_store(request: pytest.FixtureRequest) -> Store:
    """SQLite unless a test asks for another backend (indirect parametrisation)."""
    name = getattr(request, "param", "sqlite")
    return request.getfixturevalue(f"{name}_store")  # type: ignore[no-any-return]


@pytest.fixture
def seeded(backend_store: Store, lab: LabThread, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The lab's devices; alice (an operator scoped to the Lab site) with her key; sw2 moved
    to another site; the OS user an admin."""
    store = seed_lab_store(backend_store, lab, monkeypatch, password=PASSWORD, enable_secret=ENABLE)
    key = parse_ssh_key(str(keys.alice) + ".pub")
    with store.session() as session:
        site = session.scalars(sql_select(m.Location).where(m.Location.name == "Lab")).one()
        other = m.Location(name="Elsewhere", slug="elsewhere")
        session.add(other)
        session.scalars(sql_select(m.Device).where(m.Device.name == "sw2")).one().location = other
        alice = m.User(username="alice", role=UserRole.OPERATOR, scope_locations=[site])
        alice.ssh_keys.append(
            m.SshPublicKey(
                key_type=key.key_type, public_key=key.public_key, fingerprint=key.fingerprint, comment="alice"
            )
        )
        session.add(alice)
        session.add(m.User(username=getpass.getuser(), role=UserRole.ADMIN))
    return store


def _policy(tmp_path: Path, **changes: Any) -> BastionPolicy:
    return BastionPolicy(
        host="127.0.0.1",
        port=0,
        host_key_path=tmp_path / "bastion" / "host_key",
        recordings_dir=tmp_path / "recordings",
        **changes,
    )


@pytest.fixture
def bastion(seeded: Store, tmp_path: Path) -> Iterator[BastionThread]:
    handle = BastionThread(seeded, _policy(tmp_path)).start()
    try:
        yield handle
    finally:
        handle.stop()


class Terminal:
    """The OpenSSH client in a pseudo-terminal, as a person at a terminal would run it."""

    def __init__(self, args: list[str], width: int = 80, height: int = 24, term: str = "xterm") -> None:
        self.master, slave = os.openpty()
        self.resize_pty(width, height)
        # setsid --ctty: a session of its own with the pty as controlling terminal (ssh asks for
        # one-time codes on /dev/tty), without a preexec_fn in this threaded process.
        env = {**os.environ, "TERM": term}
        self.proc = subprocess.Popen(["setsid", "--ctty", *args], stdin=slave, stdout=slave, stderr=slave, env=env)
        os.close(slave)
        self.output = ""

    def resize_pty(self, width: int, height: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    def resize(self, width: int, height: int) -> None:
        """Change the window size, as a terminal emulator does (ssh hears SIGWINCH)."""
        self.resize_pty(width, height)
        self.proc.send_signal(signal.SIGWINCH)

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the client exited and the pty is gone
            return False
        if not data:
            return False
        self.output += data.decode(errors="replace")
        return True

    def expect(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        """Wait until ``pattern`` appears in the output after what earlier expects consumed."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            found = regex.search(self.output)
            if found:
                self.output = self.output[found.end() :]
                return found
            if time.monotonic() > deadline or not self._read(min(0.2, max(0.0, deadline - time.monotonic()))):
                if found := regex.search(self.output):
                    self.output = self.output[found.end() :]
                    return found
                raise AssertionError(f"{pattern!r} not seen; output so far: {self.output[-2000:]!r}")

    def wait(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        while self._read(0.05) and self.proc.poll() is None:
            pass
        return self.proc.wait(max(0.1, deadline - time.monotonic()))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def ssh_args(
    port: int, login: str, key: Path, known_hosts: Path, *command: str, tty: bool = True, batch: bool = True
) -> list[str]:
    return [
        "/usr/bin/ssh",
        "-p",
        str(port),
        "-i",
        str(key),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        f"UserKnownHostsFile={known_hosts}",
        "-o",
        "StrictHostKeyChecking=accept-new",
        "-o",
        "BatchMode=yes" if batch else "BatchMode=no",
        "-o",
        "NumberOfPasswordPrompts=1",
        "-o",
        "LogLevel=ERROR",
        "-F",
        "/dev/null",
        "-tt" if tty else "-T",
        f"{login}@127.0.0.1",
        *command,
    ]


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for term in opened:
        term.close()


def _open(
    terminals: list[Terminal], *args: Any, tty: bool = True, width: int = 80, height: int = 24, term: str = "xterm"
) -> Terminal:
    opened = Terminal(ssh_args(*args, tty=tty), width=width, height=height, term=term)
    terminals.append(opened)
    return opened


def _records(store: Store) -> list[dict[str, Any]]:
    """Every session record, oldest first, with its commands and log."""
    return [get_session(store, row["id"]) for row in reversed(list_sessions(store))]


def _refusals(store: Store) -> list[dict[str, str]]:
    with store.read_session() as session:
        return [
            {"username": e.username, "device": e.device, "source": e.source, "reason": e.reason}
            for e in session.scalars(sql_select(m.BastionEvent).order_by(m.BastionEvent.id))
        ]


def _wait_for(condition: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


@pytest.mark.parametrize("backend_store", ["sqlite", "postgres"], indirect=True)
def test_interactive_session_is_relayed_recorded_and_redacted(
    seeded: Store, bastion: BastionThread, keys: Keys, terminals: list[Terminal], tmp_path: Path
) -> None:
    term = _open(terminals, bastion.port, "alice%sw1", keys.alice, keys.known_hosts)
    term.expect(r"sw1#")  # the bastion enabled with the secret the user never sees
    term.send("show version\r")
    term.expect(r"Cisco IOS")
    term.expect(r"sw1#")
    term.send("show snmp community\r")
    term.expect(r"sw1#")
    # A password typed at a prompt: the device echoes nothing, and the recording keeps nothing.
    term.send("disable\r")
    term.expect(r"sw1>")
    term.send("enable\r")
    term.expect(r"Password:")
    term.send(TYPED_WRONG + "\r")
    term.expect(r"Access denied")
    term.send("enable\r")
    term.expect(r"Password:")
    term.send(ENABLE + "\r")
    term.expect(r"sw1#")
    term.send("exit\r")
    assert term.wait() == 0

    [record] = _wait_for(lambda: [r for r in _records(seeded) if r["status"] != "active"])
    assert record["status"] == "completed"
    assert record["session_type"] == "ssh"
    assert record["session_end"] is not None and record["session_end"] >= record["session_start"]
    commands = [c["command"] for c in record["commands_executed"]]
    assert commands == ["show version", "show snmp community", "disable", "enable", "enable", "exit"]
    assert all(c["timestamp"] for c in record["commands_executed"])
    assert "Cisco IOS" in record["commands_executed"][0]["result"]
    assert "show version" in record["session_log"]

    cast = Path(record["recording_path"])
    assert cast.parent == tmp_path / "recordings"
    header, events = read_asciicast(cast)
    assert header["version"] == 2 and header["width"] == 80 and header["height"] == 24
    assert {kind for _, kind, _ in events} >= {"o", "i"}
    assert [t for t, _, _ in events] == sorted(t for t, _, _ in events)
    typed = "".join(data for _, kind, data in events if kind == "i")
    assert "show version\r" in typed
    for secret in (TYPED_WRONG, ENABLE, PASSWORD):
        assert secret not in cast.read_text()
        assert secret not in record["session_log"]
        assert secret not in json.dumps(record["commands_executed"])


def test_exec_request_is_relayed_and_recorded(
    seeded: Store, bastion: BastionThread, keys: Keys, terminals: list[Terminal]
) -> None:
    term = _open(terminals, bastion.port, "alice%sw1", keys.alice, keys.known_hosts, "show version", tty=False)
    term.expect(r"Cisco IOS")
    assert term.wait() == 0
    [record] = _wait_for(lambda: [r for r in _records(seeded) if r["status"] != "active"])
    assert [c["command"] for c in record["commands_executed"]] == ["show version"]
    assert "Cisco IOS" in record["commands_executed"][0]["result"]
    _, events = read_asciicast(Path(record["recording_path"]))
    assert "Cisco IOS" in "".join(data for _, kind, data in events if kind == "o")


def test_terminal_type_size_and_window_changes_reach_the_device(
    bastion: BastionThread, keys: Keys, terminals: list[Terminal]
) -> None:
    term = _open(terminals, bastion.port, "alice%sw1", keys.alice, keys.known_hosts, width=100, height=30, term="vt220")
    term.expect(r"sw1#")
    term.send("show terminal\r")
    term.expect(r'Type: "vt220"\r\nLength: 30 lines, Width: 100 columns')
    term.resize(132, 50)
    time.sleep(0.5)  # the window change travels ssh -> bastion -> device on its own
    term.send("show terminal\r")
    term.expect(r"Length: 50 lines, Width: 132 columns")
    term.send("exit\r")
    assert term.wait() == 0


def test_a_device_outside_the_scope_is_refused_and_audited(
    seeded: Store, bastion: BastionThread, keys: Keys, terminals: list[Terminal]
) -> None:
    term = _open(terminals, bastion.port, "alice%sw2", keys.alice, keys.known_hosts)
    term.expect(r"does not exist or is outside your scope")
    assert term.wait() != 0
    unknown = _open(terminals, bastion.port, "alice%nosuch", keys.alice, keys.known_hosts)
    unknown.expect(r"does not exist or is outside your scope")  # the same words: nothing to enumerate
    assert unknown.wait() != 0
    refusals = _wait_for(lambda: [r for r in _refusals(seeded) if r["username"] == "alice"])
    assert {r["device"] for r in refusals} == {"sw2", "nosuch"}
    assert _records(seeded) == []


def test_a_wrong_key_is_refused_and_audited(
    seeded: Store, bastion: BastionThread, keys: Keys, terminals: list[Terminal]
) -> None:
    term = _open(terminals, bastion.port, "alice%sw1", keys.mallory, keys.known_hosts)
    term.expect(r"Permission denied")
    assert term.wait() == 255
    [refusal] = _wait_for(lambda: _refusals(seeded))
    assert refusal["username"] == "alice" and refusal["device"] == "sw1"
    assert "not one of the user's keys" in refusal["reason"]
    assert refusal["source"].startswith("127.0.0.1:")


def test_failed_logins_from_one_address_are_rate_limited(
    seeded: Store, tmp_path: Path, keys: Keys, terminals: list[Terminal]
) -> None:
    handle = BastionThread(seeded, _policy(tmp_path, max_auth_failures=2)).start()
    try:
        for _ in range(2):
            wrong = _open(terminals, handle.port, "alice%sw1", keys.mallory, keys.known_hosts)
            assert wrong.wait() == 255
        # Now even the right key is turned away from this address, until the window passes.
        right = _open(terminals, handle.port, "alice%sw1", keys.alice, keys.known_hosts)
        right.expect(r"too many failed logins")
        assert right.wait() == 255
    finally:
        handle.stop()
    reasons = [r["reason"] for r in _refusals(seeded)]
    assert reasons[-1] == "too many failed logins from this address"


def test_a_login_without_a_device_and_without_a_terminal_gets_no_shell(
    seeded: Store, bastion: BastionThread, keys: Keys, terminals: list[Terminal]
) -> None:
    term = _open(terminals, bastion.port, "alice", keys.alice, keys.known_hosts, tty=False)
    term.expect(r"the terminal UI needs a terminal")
    assert term.wait() == 1
    command = _open(terminals, bastion.port, "alice", keys.alice, keys.known_hosts, "uname -a")
    command.expect(r"the terminal UI needs a terminal")
    assert command.wait() == 1
    reasons = _wait_for(lambda: [r["reason"] for r in _refusals(seeded)] if len(_refusals(seeded)) >= 2 else [])
    assert reasons == [
        "no device and no terminal: the terminal UI needs a terminal",
        "no device and a command: the terminal UI needs a terminal",
    ]


class Screen:
    """What the user sees: the client's output through a terminal emulator (pyte)."""

    def __init__(self, term: Terminal, width: int, height: int) -> None:
        import pyte

        self.term = term
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.ByteStream(self.screen)

    def resize(self, width: int, height: int) -> None:
        self.screen.resize(height, width)
        self.term.resize(width, height)

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, *needles: str, timeout: float = 60.0, when: Any = None) -> str:
        deadline = time.monotonic() + timeout
        while True:
            ready, _, _ = select.select([self.term.master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(self.term.master, 65536)
                except OSError:
                    data = b""
                self.stream.feed(data)
            text = self.text()
            if all(n in text for n in needles) and (when is None or when(text)):
                return text
            if time.monotonic() > deadline or (not ready and self.term.proc.poll() is not None):
                raise AssertionError(f"{needles!r} not on screen:\n{text}")


def test_a_login_without_a_device_gets_the_tui_as_that_user(
    seeded: Store, bastion: BastionThread, keys: Keys, terminals: list[Terminal], tmp_path: Path
) -> None:
    """ssh alice@bastion with a terminal: nettui's TUI, as alice, resizing with her window; a
    viewer at the same time gets their own, read-only."""
    viewer_key = _keygen(tmp_path / "victor")
    key = parse_ssh_key(str(viewer_key) + ".pub")
    with seeded.session() as session:
        victor = m.User(username="victor", role=UserRole.VIEWER)
        victor.ssh_keys.append(
            m.SshPublicKey(key_type=key.key_type, public_key=key.public_key, fingerprint=key.fingerprint)
        )
        session.add(victor)
    alice = Screen(_open(terminals, bastion.port, "alice", keys.alice, keys.known_hosts, width=160, height=32), 160, 32)
    victor_term = _open(terminals, bastion.port, "victor", viewer_key, keys.known_hosts, width=160, height=30)
    victor_screen = Screen(victor_term, 160, 30)
    alice.wait_for("alice (operator)", "Home")
    victor_screen.wait_for("victor (viewer)", "Read-only")
    alice.term.send("3")  # to Executions
    alice.wait_for("No executions", "nettui — Executions")
    alice.resize(200, 40)
    alice.wait_for("alice (operator)", when=lambda text: any(len(line.rstrip()) > 160 for line in text.splitlines()))
    alice.term.send("q")
    assert alice.term.wait() == 0
    victor_term.send("q")
    assert victor_term.wait() == 0


def test_port_forwarding_is_refused_and_audited(
    seeded: Store, bastion: BastionThread, keys: Keys, terminals: list[Terminal]
) -> None:
    args = ssh_args(bastion.port, "alice%sw1", keys.alice, keys.known_hosts, "show clock", tty=False)
    args[1:1] = ["-o", "ExitOnForwardFailure=yes", "-R", "127.0.0.1:0:127.0.0.1:9"]
    term = Terminal(args)
    terminals.append(term)
    term.expect(r"(?i)remote port forwarding failed|forwarding")
    assert term.wait() == 255
    assert any("forwarding" in r["reason"] for r in _wait_for(lambda: _refusals(seeded)))


def test_an_admin_terminates_a_session_from_the_cli(
    seeded: Store, bastion: BastionThread, keys: Keys, terminals: list[Terminal]
) -> None:
    term = _open(terminals, bastion.port, "alice%sw1", keys.alice, keys.known_hosts)
    term.expect(r"sw1#")
    [active] = _wait_for(lambda: [r for r in _records(seeded) if r["status"] == "active"])
    listed = run_cli(seeded, "sessions", "list", "--active", "--json")
    assert listed.exit_code == 0 and [r["id"] for r in json.loads(listed.output)] == [active["id"]]
    result = run_cli(seeded, "sessions", "terminate", str(active["id"]))
    assert result.exit_code == 0, result.output
    term.expect(r"terminated by an administrator")
    assert term.wait() != 0
    record = get_session(seeded, active["id"])
    assert record["status"] == "terminated"
    again = run_cli(seeded, "sessions", "terminate", str(active["id"]))
    assert again.exit_code == 1 and "not active" in again.output


def test_a_non_admin_cannot_terminate(
    seeded: Store, bastion: BastionThread, keys: Keys, terminals: list[Terminal]
) -> None:
    term = _open(terminals, bastion.port, "alice%sw1", keys.alice, keys.known_hosts)
    term.expect(r"sw1#")
    [active] = _wait_for(lambda: [r for r in _records(seeded) if r["status"] == "active"])
    with seeded.session() as session:
        me = session.scalars(sql_select(m.User).where(m.User.username == getpass.getuser())).one()
        me.role = UserRole.OPERATOR
    result = run_cli(seeded, "sessions", "terminate", str(active["id"]))
    assert result.exit_code == 1 and "only an admin" in result.output
    term.send("exit\r")
    assert term.wait() == 0


def test_an_idle_session_is_closed(seeded: Store, tmp_path: Path, keys: Keys, terminals: list[Terminal]) -> None:
    handle = BastionThread(seeded, _policy(tmp_path, idle_timeout=1.0)).start()
    try:
        term = _open(terminals, handle.port, "alice%sw1", keys.alice, keys.known_hosts)
        term.expect(r"sw1#")
        term.expect(r"session ended: idle for 1 s")
        assert term.wait() != 0
    finally:
        handle.stop()
    [record] = _records(seeded)
    assert record["status"] == "terminated"
    assert "idle for 1 s" in record["session_log"]


def test_recordings_play_back_and_export(
    seeded: Store, bastion: BastionThread, keys: Keys, terminals: list[Terminal]
) -> None:
    term = _open(terminals, bastion.port, "alice%sw1", keys.alice, keys.known_hosts)
    term.expect(r"sw1#")
    term.send("show clock\r")
    term.expect(r"sw1#")
    term.send("exit\r")
    assert term.wait() == 0
    [record] = _wait_for(lambda: [r for r in _records(seeded) if r["status"] != "active"])
    text = run_cli(seeded, "sessions", "export", str(record["id"]), "--format", "text")
    assert text.exit_code == 0 and "sw1#show clock" in text.output
    cast = run_cli(seeded, "sessions", "export", str(record["id"]), "--format", "asciicast")
    assert json.loads(cast.output.splitlines()[0])["version"] == 2
    played = run_cli(seeded, "sessions", "play", str(record["id"]), "--speed", "100")
    assert played.exit_code == 0 and "show clock" in played.output
    shown = run_cli(seeded, "sessions", "show", str(record["id"]))
    assert shown.exit_code == 0 and "show clock" in shown.output
    missing = run_cli(seeded, "sessions", "show", "999")
    assert missing.exit_code == 1 and "no session 999" in missing.output


def test_the_host_key_persists_across_restarts(seeded: Store, tmp_path: Path) -> None:
    first = BastionThread(seeded, _policy(tmp_path)).start()
    first.stop()
    key_file = tmp_path / "bastion" / "host_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    before = key_file.read_bytes()
    second = BastionThread(seeded, _policy(tmp_path)).start()
    second.stop()
    assert key_file.read_bytes() == before


def test_secrets_split_across_packets_never_reach_the_recording(tmp_path: Path) -> None:
    path = tmp_path / "s.cast"
    recorder = SessionRecorder(path, Redactor([PASSWORD]), width=80, height=24, term_type="xterm", title="t")
    for chunk in [
        "sw1#show run\r\n",
        "snmp-server comm",
        "unity Pub",
        "lic-42 RO\r\n",
        "username admin pass",
        "word 0 ",
        PASSWORD[:5],
        PASSWORD[5:],
        "\r\nsw1#",
    ]:
        recorder.output(chunk)
    recorder.input("snmp-server community Typed-7")
    recorder.input("7 RO\r")
    recorder.close()
    text = path.read_text()
    for secret in ("Public-42", PASSWORD, "Typed-77", "Pub", "Typed"):
        assert secret not in text
        assert secret not in recorder.transcript()
    assert "snmp-server community ******** RO" in recorder.transcript()
    assert [c["command"] for c in recorder.commands] == ["snmp-server community ******** RO"]
    _, events = read_asciicast(path)
    assert "".join(d for _, k, d in events if k == "o").endswith("sw1#")


def test_a_second_factor_is_asked_after_the_key(
    seeded: Store, bastion: BastionThread, keys: Keys, terminals: list[Terminal], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyotp

    seed = pyotp.random_base32()
    monkeypatch.setenv("ALICE_TOTP", seed)
    with seeded.session() as session:
        session.add(
            m.SecretsGroup(
                name="alice-otp", entries=[m.SecretsGroupEntry(name="totp", backend="env", reference="ALICE_TOTP")]
            )
        )
    result = run_cli(seeded, "bastion", "totp", "alice", "--secrets-group", "alice-otp")
    assert result.exit_code == 0, result.output

    wrong = Terminal(ssh_args(bastion.port, "alice%sw1", keys.alice, keys.known_hosts, batch=False))
    terminals.append(wrong)
    wrong.expect(r"Verification code:")
    wrong.send("000000\r" if pyotp.TOTP(seed).now() != "000000" else "111111\r")
    assert wrong.wait() == 255
    assert _wait_for(lambda: [r for r in _refusals(seeded) if r["reason"] == "wrong one-time code"])

    right = Terminal(ssh_args(bastion.port, "alice%sw1", keys.alice, keys.known_hosts, batch=False))
    terminals.append(right)
    right.expect(r"Verification code:")
    right.send(pyotp.TOTP(seed).now() + "\r")
    right.expect(r"sw1#")
    right.send("exit\r")
    assert right.wait() == 0
    # Keys alone no longer do for alice.
    batch = _open(terminals, bastion.port, "alice%sw1", keys.alice, keys.known_hosts)
    batch.expect(r"Permission denied")
    assert batch.wait() == 255

    off = run_cli(seeded, "bastion", "totp", "alice", "--off")
    assert off.exit_code == 0
    missing = run_cli(seeded, "bastion", "totp", "alice", "--secrets-group", "nosuch")
    assert missing.exit_code == 1 and "no secrets group 'nosuch'" in missing.output


def test_a_client_that_never_logs_in_is_cut_off_after_the_grace_time(seeded: Store, tmp_path: Path) -> None:
    import socket

    handle = BastionThread(seeded, _policy(tmp_path, login_grace=1.0)).start()
    try:
        with socket.create_connection(("127.0.0.1", handle.port), timeout=15) as sock:
            received = b""
            while chunk := sock.recv(4096):  # the server's banner, then nothing until it hangs up
                received += chunk
        assert received.startswith(b"SSH-2.0-")
        refusals = _wait_for(lambda: _refusals(seeded))
    finally:
        handle.stop()
    assert "grace time (1 s)" in refusals[0]["reason"]


def _session_in_killed_bastion(
    seeded: Store, tmp_path: Path, keys: Keys, terminals: list[Terminal], label: str
) -> tuple[int, datetime, datetime]:
    """A session through a bastion process, a command typed, the bastion SIGKILLed: the
    session's id, and the wall-clock times just before the command was typed and the kill."""
    before = {r["id"] for r in list_sessions(seeded, recover=False)}
    process = BastionProcess(seeded.url.render_as_string(hide_password=False), tmp_path, label)
    try:
        term = _open(terminals, process.port, "alice%sw1", keys.alice, keys.known_hosts)
        term.expect(r"sw1#")
        [record] = _wait_for(lambda: [r for r in list_sessions(seeded, recover=False) if r["id"] not in before])
        assert record["status"] == "active" and record["bastion"].startswith("bastion ")
        typed_at = datetime.now(UTC)
        term.send("show version\r")
        term.expect(r"Cisco IOS")
        term.expect(r"sw1#")
        # The recording is written as the session goes: within a second the file has it all.
        cast = Path(get_session(seeded, record["id"])["recording_path"])
        assert _wait_for(lambda: cast.exists() and "Cisco IOS" in cast.read_text())
        assert _wait_for(lambda: get_session(seeded, record["id"])["commands_executed"])
        killed_at = datetime.now(UTC)
        process.kill()
    finally:
        process.close()
    assert term.wait() == 255  # the client saw its connection drop
    return record["id"], typed_at, killed_at


def _assert_closed_at_its_last_moment(seeded: Store, record_id: int, typed_at: datetime, killed_at: datetime) -> None:
    record = get_session(seeded, record_id)
    assert record["status"] == "terminated"
    end = datetime.fromisoformat(record["session_end"])
    # The end is the recording's last event: after the command was typed, before the kill.
    assert typed_at - timedelta(seconds=0.5) <= end <= killed_at
    assert [c["command"] for c in record["commands_executed"]] == ["show version"]
    header, events = read_asciicast(Path(record["recording_path"]))  # the killed bastion's file parses
    assert header["version"] == 2
    assert "show version\r" in "".join(data for _, kind, data in events if kind == "i")
    assert "Cisco IOS" in "".join(data for _, kind, data in events if kind == "o")
    for secret in (PASSWORD, ENABLE):
        assert secret not in Path(record["recording_path"]).read_text()


@pytest.mark.slow
def test_sessions_of_a_killed_bastion_are_closed_and_keep_their_recording(
    seeded: Store, bastion: BastionThread, keys: Keys, terminals: list[Terminal], tmp_path: Path
) -> None:
    """Two bastions share the store; one is SIGKILLed mid-session. Listing the sessions closes
    the dead one's session (terminated, ending at its recording's last event), not the live
    one's; a bastion starting after another was killed closes that one's session too."""
    live = _open(terminals, bastion.port, "alice%sw1", keys.alice, keys.known_hosts)
    live.expect(r"sw1#")
    [live_record] = _wait_for(lambda: list_sessions(seeded, recover=False))

    dead_id, typed_at, killed_at = _session_in_killed_bastion(seeded, tmp_path, keys, terminals, "first")
    assert get_session(seeded, dead_id, recover=False)["status"] == "active"  # nobody has looked yet
    listed = run_cli(seeded, "sessions", "list", "--json")
    assert listed.exit_code == 0, listed.output
    statuses = {r["id"]: r["status"] for r in json.loads(listed.output)}
    assert statuses == {live_record["id"]: "active", dead_id: "terminated"}
    _assert_closed_at_its_last_moment(seeded, dead_id, typed_at, killed_at)
    with seeded.read_session() as session:  # the dead bastion's registration is gone, the live one's not
        nodes = list(session.scalars(sql_select(m.EngineNode.name)))
    assert nodes == [live_record["bastion"]]

    # Killed again; this time a bastion starting is the first to look.
    second_id, typed_at, killed_at = _session_in_killed_bastion(seeded, tmp_path, keys, terminals, "second")
    assert get_session(seeded, second_id, recover=False)["status"] == "active"
    restarted = BastionThread(seeded, _policy(tmp_path)).start()
    restarted.stop()
    assert get_session(seeded, second_id, recover=False)["status"] == "terminated"  # the new bastion closed it
    _assert_closed_at_its_last_moment(seeded, second_id, typed_at, killed_at)
    assert get_session(seeded, live_record["id"])["status"] == "active"  # still served, still active
    live.send("show clock\r")
    live.expect(r"sw1#")
    live.send("exit\r")
    assert live.wait() == 0
    assert _wait_for(lambda: get_session(seeded, live_record["id"])["status"] == "completed")


def test_a_break_from_openssh_reaches_the_device(
    seeded: Store, lab: LabThread, bastion: BastionThread, keys: Keys, terminals: list[Terminal]
) -> None:
    """`~B` (OpenSSH's escape for a break, EscapeChar ~) goes ssh -> bastion -> device."""
    device = lab.device("sw1")
    before = len(device.line_events)
    args = ssh_args(bastion.port, "alice%sw1", keys.alice, keys.known_hosts)
    args[1:1] = ["-e", "~"]
    term = Terminal(args)
    terminals.append(term)
    term.expect(r"sw1#")
    term.send("\r")  # an escape is recognised at the start of a line
    term.expect(r"sw1#")
    term.send("~B")
    assert _wait_for(lambda: device.line_events[before:]) == ["break 1000"]
    term.send("show clock\r")  # the session goes on
    term.expect(r"sw1#")
    term.send("exit\r")
    assert term.wait() == 0
    [record] = _wait_for(lambda: [r for r in _records(seeded) if r["status"] != "active"])
    _, events = read_asciicast(Path(record["recording_path"]))
    assert [data for _, kind, data in events if kind == "m"] == ["break 1000 ms"]  # the audit shows it


def test_a_signal_reaches_the_device(seeded: Store, lab: LabThread, bastion: BastionThread, keys: Keys) -> None:
    """A signal request goes user -> bastion -> device. OpenSSH's client cannot send one (it
    has no escape for it), so a real asyncssh client does."""
    import asyncio

    import asyncssh

    device = lab.device("sw1")
    before = len(device.line_events)

    async def session() -> tuple[list[str], str]:
        async with asyncssh.connect(
            "127.0.0.1",
            bastion.port,
            username="alice%sw1",
            client_keys=[str(keys.alice)],
            known_hosts=None,
            agent_path=None,
            config=[],
        ) as conn:
            process = await conn.create_process(term_type="xterm", term_size=(80, 24))
            async with asyncio.timeout(20):
                await process.stdout.readuntil("sw1#")
                process.send_signal("INT")
                while not device.line_events[before:]:
                    await asyncio.sleep(0.05)
                process.stdin.write("exit\r")
                rest = await process.stdout.read()
                await process.wait()
        return list(device.line_events[before:]), rest

    events, rest = asyncio.run(session())
    assert events == ["signal INT"]
    assert "exit" in rest
    [record] = _wait_for(lambda: [r for r in _records(seeded) if r["status"] != "active"])
    _, recorded = read_asciicast(Path(record["recording_path"]))
    assert [data for _, kind, data in recorded if kind == "m"] == ["signal INT"]


def test_sessions_of_a_bastion_on_another_host_close_only_when_its_heartbeat_stops(seeded: Store) -> None:
    """Bastions on other hosts cannot be asked about their process: one that stopped saying it
    is alive (for longer than BASTION_STALE_S) is gone, one that says so is not."""
    now = datetime.now(UTC)
    quiet_since = now - timedelta(seconds=BASTION_STALE_S + 40)
    with seeded.session() as session:
        sw1 = session.scalars(sql_select(m.Device).where(m.Device.name == "sw1")).one()
        alice = session.scalars(sql_select(m.User).where(m.User.username == "alice")).one()
        for name, heartbeat in (("bastion far-away:41:aa", now), ("bastion far-away:42:bb", quiet_since)):
            session.add(m.EngineNode(name=name, roles=["bastion"], started_at=quiet_since, heartbeat_at=heartbeat))
        start = quiet_since - timedelta(minutes=5)
        for name in ("bastion far-away:41:aa", "bastion far-away:42:bb", "bastion far-away:43:cc", ""):
            session.add(m.SessionRecord(device=sw1, user=alice, session_start=start, bastion=name))
    rows = {r["bastion"]: r for r in list_sessions(seeded)}
    assert rows["bastion far-away:41:aa"]["status"] == "active"  # alive: it said so just now
    for gone in ("bastion far-away:42:bb", "bastion far-away:43:cc", ""):  # quiet, unregistered, unknown
        assert rows[gone]["status"] == "terminated"
    # With no recording to read, a session ends at its bastion's last sign of life (or its start).
    assert datetime.fromisoformat(rows["bastion far-away:42:bb"]["session_end"]) == quiet_since
    assert datetime.fromisoformat(rows[""]["session_end"]) == start
    with seeded.read_session() as session:
        assert list(session.scalars(sql_select(m.EngineNode.name))) == ["bastion far-away:41:aa"]
