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
