"""Keeping secrets out of log lines, whoever writes them.

Client libraries log what they send; at DEBUG, libscrapli logs the enable secret it types.
Every secret a provider hands to a library is registered here, and a log-record factory
replaces it with ``********`` in every record of every logger before any handler sees it.
Library text that nettui copies into its own error messages goes through :func:`redact` too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

MASK = "********"
_MIN_LENGTH = 3  # shorter values would mask ordinary words; no real secret is that short
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def register(values: Iterable[str | None]) -> None:
    """Remember secret values for the life of the process, and make sure logs are filtered."""
    install()
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= _MIN_LENGTH)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by the mask (longest first)."""
    if not _secrets:
        return text
    for value in sorted(_secrets, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    return text


def install() -> None:
    """Wrap the log-record factory once per process."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if _secrets:
                try:
                    message = record.getMessage()
                except Exception:  # a broken format string is the logger's problem, not ours
                    return record
                cleaned = redact(message)
                if cleaned != message:
                    record.msg, record.args = cleaned, None
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


EXCERPT_LENGTH = 300  # characters of a library message or response body quoted in an error


def first_line(text: str) -> str:
    """The first non-empty line of a library's message, secrets masked: what an error quotes."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return redact(lines[0] if lines else "")


def excerpt(text: str, limit: int = EXCERPT_LENGTH) -> str:
    """``text`` on one line, secrets masked, cut at ``limit`` characters."""
    flat = redact(" ".join(text.split()))
    return flat if len(flat) <= limit else flat[:limit] + "..."
