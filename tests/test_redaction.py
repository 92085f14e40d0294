"""Secrets handed to client libraries are masked in every log record, from any logger."""

from __future__ import annotations

import logging

import pytest

from drivers.redaction import MASK, redact, register


def test_registered_secrets_never_reach_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    register(["s3cret-Enable-42", None, "ab"])
    logging.getLogger("some.library.deep.child").debug("sendPromptedInput: response %r", "s3cret-Enable-42")
    logging.getLogger("other").warning("typed s3cret-Enable-42 at the prompt")
    assert "s3cret-Enable-42" not in caplog.text
    assert caplog.text.count(MASK) == 2
    assert redact("ab and s3cret-Enable-42") == f"ab and {MASK}"  # too short to be a secret: left alone


def test_scrapli_never_logs_below_info() -> None:
    import drivers.scrapli_provider  # noqa: F401  (the import sets the cap)

    assert logging.getLogger("scrapli.cli.127.0.0.1:22").getEffectiveLevel() >= logging.INFO


def test_known_hosts_files_are_private_and_written_once() -> None:
    import os
    import stat

    from drivers.trust import known_hosts_file

    line = "[127.0.0.1]:2022 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcHcJ8vwyS7iS0JxzU/7GJyuYwBXFUX5G1AJhe3xQpA"
    path = known_hosts_file(line)
    assert path is not None and known_hosts_file(line) == path
    with open(path) as handle:
        assert handle.read() == line + "\n"
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert known_hosts_file(line.replace("2022", "2023")) != path
    assert known_hosts_file(None) is None
