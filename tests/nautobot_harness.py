"""A real Nautobot 3.2 server on 127.0.0.1 for the tests, started by the tests themselves.

The expensive parts are done once per machine and cached under
``${NETTUI_TEST_CACHE:-~/.cache/nettui-tests}/nautobot-3.2``:

``venv/``
    Nautobot's own virtual environment (``pip install "nautobot==3.2.*"``, about 40 s). It is
    never the project's venv: Nautobot pins its own Django, GraphQL and Celery stacks.
``nautobot_config.py``
    written once by ``nautobot-server init``; everything else is configured by environment.
``template-<version>.dump`` and ``template-<version>.json``
    a ``pg_dump -Fc`` of a freshly migrated database (``migrate`` takes about 3.5 minutes on two
    cores) with a superuser and an API token in it, and the token next to it.

Every test session (every pytest-xdist worker) then restores the dump into a database of its own
(about 2 s), runs ``nautobot-server runserver`` on a free port, and drops the database at the end.
Creation of the cached pieces is serialised across processes with ``fcntl.flock``, so two workers
never install or migrate at once; the second one waits and then reuses the first one's work.

Any failure raises :class:`HarnessError` naming the step and quoting the tail of its output:
tests that need Nautobot fail, loudly, rather than skip.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

NAUTOBOT_REQUIREMENT = "nautobot==3.2.*"
NAUTOBOT_SERIES = "3.2."
PG_HOST = os.environ.get("NETTUI_TEST_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("NETTUI_TEST_PG_PORT", "5432")
PG_USER = os.environ.get("NETTUI_TEST_PG_USER", "postgres")
REDIS_HOST = os.environ.get("NETTUI_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = os.environ.get("NETTUI_TEST_REDIS_PORT", "6379")
ADMIN_USER = "admin"
ADMIN_EMAIL = "admin@example.invalid"

# Bounds on every slow step, so a wedged subprocess fails the session instead of hanging CI.
LOCK_TIMEOUT_S = 30 * 60  # another worker may be installing and migrating meanwhile
PIP_TIMEOUT_S = 15 * 60
MIGRATE_TIMEOUT_S = 20 * 60
COMMAND_TIMEOUT_S = 5 * 60
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
TAIL_CHARS = 3000

# Appended to the generated config: Nautobot reads most settings from NAUTOBOT_* variables, but
# the cache's Redis database number is fixed, so each session gets its own key prefix instead.
_CONFIG_SUFFIX = """

# -- added by nettui's test harness (tests/nautobot_harness.py) --
# Sessions share one Redis: a key prefix per session keeps their caches apart.
CACHES["default"]["KEY_PREFIX"] = os.getenv("NETTUI_NAUTOBOT_CACHE_PREFIX", "")
"""

# Run inside ``nautobot-server shell``: one token for the superuser, printed with a marker so it
# can be picked out of whatever else the shell prints.
_TOKEN_SCRIPT = (
    "from nautobot.users.models import Token, User; "
    f"user = User.objects.get(username={ADMIN_USER!r}); "
    "token = Token.objects.create(user=user, description='nettui tests', write_enabled=True); "
    "print('NETTUI_TOKEN=' + token.key)"
)


class HarnessError(RuntimeError):
    """The Nautobot test server could not be prepared or started; says which step and why."""

    def __init__(self, step: str, what: str, output: str = "") -> None:
        self.step = step
        text = f"Nautobot test harness: {step} failed: {what}"
        if output.strip():
            text += f"\n--- last output of this step ---\n{_tail(output)}"
        super().__init__(text)


@dataclass(frozen=True)
class NautobotServer:
    """A running server: where it is and a superuser's API token."""

    url: str
    token: str
    database: str
    version: str


def cache_dir() -> Path:
    """``$NETTUI_TEST_CACHE/nautobot-3.2`` (default ``~/.cache/nettui-tests``)."""
    base = os.environ.get("NETTUI_TEST_CACHE") or "~/.cache/nettui-tests"
    return Path(base).expanduser() / "nautobot-3.2"


def progress(message: str) -> None:
    """Progress of the slow steps on stderr (shown with ``pytest -s``)."""
    print(f"[nautobot-harness {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= TAIL_CHARS else "..." + text[-TAIL_CHARS:]


def _run(
    step: str,
    args: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = COMMAND_TIMEOUT_S,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion; any failure becomes a HarnessError quoting its output."""
    argv = [str(a) for a in args]
    try:
        result = subprocess.run(
            argv,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = (exc.stderr or b"").decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        raise HarnessError(step, f"`{' '.join(argv)}` did not finish within {timeout:g}s", out + err) from None
    except OSError as exc:
        raise HarnessError(step, f"cannot run `{argv[0]}`: {exc}") from None
    if result.returncode != 0:
        raise HarnessError(
            step, f"`{' '.join(argv)}` exited with status {result.returncode}", result.stdout + result.stderr
        )
    return result


@contextlib.contextmanager
def _file_lock(path: Path, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """An exclusive ``flock`` on ``path``, waited for at most ``timeout`` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        deadline = time.monotonic() + timeout
        announced = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise HarnessError("locking the cache", f"{path} stayed locked for {timeout:g}s") from None
                if not announced:
                    progress(f"waiting for another test process to finish preparing {path.parent}")
                    announced = True
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _free_port() -> int:
    # Bind to port 0 and let the kernel choose; the tiny window before runserver binds is
    # acceptable on a test machine (a collision fails loudly at start-up, it does not hang).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class NautobotHarness:
    """Prepares the cached pieces and runs one server per test session."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_dir()
        self.venv = self.root / "venv"
        self.config = self.root / "nautobot_config.py"
        self.lock = self.root / ".lock"
        self.bin = self.venv / "bin"

    # -- the cached pieces

    def _installed_version(self) -> str | None:
        python = self.bin / "python"
        if not (python.exists() and (self.bin / "nautobot-server").exists()):
            return None
        try:
            result = subprocess.run(
                [str(python), "-c", "import nautobot; print(nautobot.__version__)"],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        version = result.stdout.strip()
        return version if result.returncode == 0 and version.startswith(NAUTOBOT_SERIES) else None

    def ensure_venv(self) -> str:
        """Nautobot's own venv, created once; returns the installed Nautobot version."""
        version = self._installed_version()
        if version:
            return version
        with _file_lock(self.lock):
            version = self._installed_version()  # another process may have just built it
            if version:
                return version
            if self.venv.exists():
                progress(f"{self.venv} is not a working Nautobot {NAUTOBOT_SERIES}x venv: rebuilding it")
                shutil.rmtree(self.venv)
            started = time.monotonic()
            progress(f"creating {self.venv} and installing {NAUTOBOT_REQUIREMENT} (about a minute, once)")
            _run("creating Nautobot's venv", ["python3", "-m", "venv", self.venv])
            _run(
                f"pip install {NAUTOBOT_REQUIREMENT}",
                [self.bin / "python", "-m", "pip", "install", "--quiet", NAUTOBOT_REQUIREMENT],
                timeout=PIP_TIMEOUT_S,
            )
            version = self._installed_version()
            if not version:
                raise HarnessError("checking Nautobot's venv", f"`import nautobot` fails in {self.venv} after install")
            progress(f"installed Nautobot {version} in {time.monotonic() - started:.0f}s")
            return version

    def ensure_config(self) -> None:
        """``nautobot_config.py`` from ``nautobot-server init``, plus the per-session cache prefix."""
        if self.config.exists():
            return
        with _file_lock(self.lock):
            if self.config.exists():
                return
            partial = self.root / f"nautobot_config.{os.getpid()}.py"
            partial.unlink(missing_ok=True)
            _run(
                "nautobot-server init",
                [self.bin / "nautobot-server", "init", "--disable-installation-metrics", partial],
                env=self._env("unused", self.root),
            )
            with partial.open("a") as fh:
                fh.write(_CONFIG_SUFFIX)
            partial.replace(self.config)  # atomic: readers never see a half-written config

    def template_paths(self, version: str) -> tuple[Path, Path]:
        """The dump of the migrated database and its JSON (the token), keyed by Nautobot version."""
        return self.root / f"template-{version}.dump", self.root / f"template-{version}.json"

    def ensure_template(self, version: str) -> dict[str, str]:
        """The migrated-database dump, created once (several minutes); returns its credentials."""
        dump, meta = self.template_paths(version)
        if dump.exists() and meta.exists():
            return self._read_meta(meta)
        with _file_lock(self.lock):
            if dump.exists() and meta.exists():
                return self._read_meta(meta)
            return self._build_template(version, dump, meta)

    def _read_meta(self, meta: Path) -> dict[str, str]:
        try:
            data = json.loads(meta.read_text())
        except (OSError, ValueError) as exc:
            raise HarnessError("reading the template's token", f"{meta}: {exc}; delete it to rebuild") from None
        if not isinstance(data, dict) or not isinstance(data.get("token"), str):
            raise HarnessError("reading the template's token", f"{meta} has no token; delete it to rebuild")
        return {str(k): str(v) for k, v in data.items()}

    def _build_template(self, version: str, dump: Path, meta: Path) -> dict[str, str]:
        database = f"nettui_nbtemplate_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        password = secrets.token_urlsafe(16)
        started = time.monotonic()
        progress(f"no migrated-database dump for Nautobot {version}: building one (about 4 minutes, once)")
        _run("createdb (template)", ["createdb", *self._pg_args(), database])
        try:
            with tempfile.TemporaryDirectory(prefix="nettui-nautobot-") as root:
                env = self._env(database, Path(root))
                progress(f"nautobot-server migrate into {database}")
                _run(
                    "nautobot-server migrate",
                    [self.bin / "nautobot-server", "migrate"],
                    env=env,
                    timeout=MIGRATE_TIMEOUT_S,
                )
                progress(f"migrated in {time.monotonic() - started:.0f}s; creating the superuser and a token")
                _run(
                    "nautobot-server createsuperuser",
                    [
                        self.bin / "nautobot-server",
                        "createsuperuser",
                        "--noinput",
                        "--username",
                        ADMIN_USER,
                        "--email",
                        ADMIN_EMAIL,
                    ],
                    env={**env, "DJANGO_SUPERUSER_PASSWORD": password},
                )
                shell = _run(
                    "creating an API token (nautobot-server shell)",
                    [self.bin / "nautobot-server", "shell", "--command", _TOKEN_SCRIPT],
                    env=env,
                )
                tokens = [
                    line.split("=", 1)[1].strip()
                    for line in shell.stdout.splitlines()
                    if line.startswith("NETTUI_TOKEN=")
                ]
                if len(tokens) != 1 or len(tokens[0]) != 40:
                    raise HarnessError(
                        "creating an API token (nautobot-server shell)",
                        "the shell did not print one 40-character token",
                        shell.stdout + shell.stderr,
                    )
            # Write both files under temporary names and rename, so an interrupted run never
            # leaves a dump that later runs would trust.
            partial_dump = dump.with_name(f"{dump.name}.{os.getpid()}.partial")
            _run("pg_dump of the migrated database", ["pg_dump", *self._pg_args(), "-Fc", "-f", partial_dump, database])
            partial_meta = meta.with_name(f"{meta.name}.{os.getpid()}.partial")
            partial_meta.write_text(
                json.dumps(
                    {
                        "nautobot_version": version,
                        "token": tokens[0],
                        "username": ADMIN_USER,
                        "password": password,
                        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    },
                    indent=2,
                )
            )
            partial_meta.chmod(0o600)
            partial_dump.replace(dump)
            partial_meta.replace(meta)
        finally:
            self._dropdb(database)
        progress(f"cached {dump.name} ({dump.stat().st_size // 1024} KiB) in {time.monotonic() - started:.0f}s")
        return self._read_meta(meta)

    # -- one session

    def _pg_args(self) -> list[str]:
        return ["-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "--no-password"]

    def _dropdb(self, database: str) -> None:
        # --force ends the server's leftover connections (PostgreSQL 13+); failures here are
        # reported but never mask the test outcome.
        try:
            _run(f"dropdb {database}", ["dropdb", *self._pg_args(), "--if-exists", "--force", database])
        except HarnessError as exc:
            progress(str(exc))

    def _env(self, database: str, nautobot_root: Path) -> dict[str, str]:
        """Nautobot's configuration, by environment; nothing of the project's venv leaks in."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("NAUTOBOT_", "DJANGO_", "PYTHON")) and k not in ("VIRTUAL_ENV",)
        }
        env.update(
            PATH=f"{self.bin}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
            VIRTUAL_ENV=str(self.venv),
            NAUTOBOT_ROOT=str(nautobot_root),
            NAUTOBOT_CONFIG=str(self.config),
            NAUTOBOT_DB_HOST=PG_HOST,
            NAUTOBOT_DB_PORT=PG_PORT,
            NAUTOBOT_DB_USER=PG_USER,
            NAUTOBOT_DB_PASSWORD="",
            NAUTOBOT_DB_NAME=database,
            NAUTOBOT_REDIS_HOST=REDIS_HOST,
            NAUTOBOT_REDIS_PORT=REDIS_PORT,
            NAUTOBOT_ALLOWED_HOSTS="127.0.0.1 localhost",
            NAUTOBOT_SECRET_KEY=secrets.token_urlsafe(50),
            NAUTOBOT_INSTALLATION_METRICS_ENABLED="False",
            NAUTOBOT_LOG_LEVEL="WARNING",
            NETTUI_NAUTOBOT_CACHE_PREFIX=database,
            PYTHONUNBUFFERED="1",
        )
        return env

    @contextlib.contextmanager
    def server(self) -> Iterator[NautobotServer]:
        """Restore the template into a new database, run a server on it, and clean up after."""
        started = time.monotonic()
        version = self.ensure_venv()
        self.ensure_config()
        meta = self.ensure_template(version)
        dump, _ = self.template_paths(version)
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        database = f"nettui_nb_{worker}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        _run("createdb (session)", ["createdb", *self._pg_args(), database])
        try:
            try:
                _run(
                    "pg_restore of the migrated database",
                    ["pg_restore", *self._pg_args(), "--no-owner", "--exit-on-error", "-d", database, dump],
                )
            except HarnessError as exc:
                raise HarnessError(
                    "pg_restore of the migrated database",
                    f"{dump} could not be restored; delete it and {dump.with_suffix('.json').name} to rebuild them",
                    str(exc),
                ) from None
            with (
                tempfile.TemporaryDirectory(prefix="nettui-nautobot-") as root,
                self._runserver(database, Path(root), meta["token"], version) as server,
            ):
                progress(f"Nautobot {version} ready at {server.url} in {time.monotonic() - started:.1f}s")
                yield server
        finally:
            self._dropdb(database)

    @contextlib.contextmanager
    def _runserver(self, database: str, root: Path, token: str, version: str) -> Iterator[NautobotServer]:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = root / "runserver.log"
        env = self._env(database, root)
        with log_path.open("w") as log_file:
            # A session of its own, so stopping it ends any child it started as well.
            proc = subprocess.Popen(
                [str(self.bin / "nautobot-server"), "runserver", f"127.0.0.1:{port}", "--noreload"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                self._wait_ready(proc, url, token, log_path)
                yield NautobotServer(url=url, token=token, database=database, version=version)
            finally:
                _stop(proc)

    def _wait_ready(self, proc: subprocess.Popen[bytes], url: str, token: str, log_path: Path) -> None:
        """Poll ``/api/status/`` with the token until it answers 200 (bounded)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        last = "no answer yet"
        request = urllib.request.Request(
            f"{url}/api/status/", headers={"Authorization": f"Token {token}", "Accept": "application/json"}
        )
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise HarnessError(
                    "nautobot-server runserver", f"the server exited with status {proc.returncode}", _read(log_path)
                )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 200:
                        return
                    last = f"HTTP {response.status}"
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            time.sleep(0.25)
        raise HarnessError(
            "waiting for /api/status/",
            f"{url} did not answer within {START_TIMEOUT_S:g}s (last: {last})",
            _read(log_path),
        )


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, then SIGKILL it if it lingers."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def nautobot_server() -> Iterator[NautobotServer]:
    """A running Nautobot for one test session (see the module docstring)."""
    with NautobotHarness().server() as server:
        yield server


@pytest.fixture(scope="session", name="nautobot")
def nautobot_fixture() -> Iterator[NautobotServer]:
    """The session's Nautobot (per xdist worker). It FAILS, never skips, when the server cannot start.

    Use it from a test module or a conftest with ``from tests.nautobot_harness import nautobot_fixture``.
    """
    with contextlib.ExitStack() as stack:
        failure: str | None = None
        try:
            server = stack.enter_context(nautobot_server())
        except HarnessError as exc:
            failure = str(exc)
        if failure is not None:  # outside the except, so the report is not doubled by chaining
            pytest.fail(failure, pytrace=False)
        yield server


if __name__ == "__main__":  # pragma: no cover - manual use: prepare the cache, print the URL
    with nautobot_server() as srv:
        print(srv.url, srv.database, flush=True)
