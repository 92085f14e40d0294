"""`nettui bastion` as its own process, as in production: :class:`BastionProcess`, for the
tests that kill a bastion and for benchmarks/bastion.py."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

START_TIMEOUT_S = 60.0


class BastionProcess:
    """`nettui bastion` on a free port of 127.0.0.1 against the store at ``url``; its host key,
    recordings and log (``LABEL.log``) in ``folder``; ``env`` added to this process's."""

    def __init__(self, url: str, folder: Path, label: str, env: Mapping[str, str] | None = None) -> None:
        self.log_path = folder / f"{label}.log"
        command = [
            sys.executable,
            "-m",
            "nettui.cli",
            "--database",
            url,
            "bastion",
            "--listen",
            "127.0.0.1:0",
            "--host-key",
            str(folder / "bastion" / "host_key"),
            "--recordings",
            str(folder / "recordings"),
        ]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
            )
        self.port = self._wait_listening()

    def _wait_listening(self) -> int:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            found = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.log())
            if found:
                return int(found.group(1))
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the bastion exited (status {self.proc.returncode}) before listening:\n{self.log()}"
                )
            time.sleep(0.05)
        self.close()
        raise RuntimeError(f"the bastion did not listen within {START_TIMEOUT_S:g} s:\n{self.log()[-2000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(20) == -signal.SIGKILL

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(20)
