"""Hook functions the tests register through the dist-info next to this file."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from typing import Any

NOT_CALLABLE = {"this": "is data"}


def echo(context: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Sync: returns what it was given, and which thread ran it."""
    return {"device": context.get("device"), "kwargs": kwargs, "thread": threading.current_thread().name}


async def async_echo(context: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Async: awaits something before answering."""
    await asyncio.sleep(0)
    return {"device": context.get("device"), "kwargs": kwargs, "async": True}


def fails(context: Mapping[str, Any], **kwargs: Any) -> None:
    """Raises from a frame whose locals hold the whole context (and its secrets)."""
    password = context.get("password")  # noqa: F841  (a local the traceback would keep)
    raise RuntimeError("the hook gave up")


def skips(context: Mapping[str, Any], **kwargs: Any) -> None:
    """Leaves the device alone on purpose, from a frame that holds the context."""
    from catalog.errors import StepSkipped

    password = context.get("password")  # noqa: F841
    raise StepSkipped(f"nothing to do on {context.get('device')}")


def leaks_secret(context: Mapping[str, Any], **kwargs: Any) -> None:
    """Puts a secret from the context into its error message."""
    raise ValueError(f"could not log in with {context['password']}")
