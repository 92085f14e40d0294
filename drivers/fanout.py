"""One action on many devices at once, with bounded concurrency; one device failing does not
stop the others. The engine's fan-out and `nettui device` batch commands run through here."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from catalog.errors import NettuiError
from catalog.store import Store
from drivers.base import DEFAULT_TIMEOUT_S, Provider
from drivers.connect import PROVIDERS, open_session, prepare_devices

# Sessions at a time, per driver, as measured on 2 cores (benchmarks/fanout.py). asyncssh
# runs every session in this event loop at about 2 ms of CPU each; a session is a dozen
# round trips, and the more sessions wait at once, the more of their packets each turn of the
# loop (and the lab's) handles. On a busy machine, where each process waits to be scheduled,
# 500 devices went at about 70/s with 50 at a time, 85-330/s with 200 and 165-300/s with 500
# (the least CPU per session, too); an open session holds under 70 KB. libscrapli
# polls (every 100 us while it logs in, not configurable) from native threads of each session,
# so its CPU use grows with the number of sessions waiting at once (200 devices: 102/s at 25,
# 18/s at 100); against the lab, 6-16 sessions did about equally well and 25 worse, so 12.
# netmiko mostly waits and likes many threads.
DEFAULT_CONCURRENCY = {"asyncssh": 500, "scrapli": 12, "netmiko": 100}


@dataclass
class DeviceOutcome:
    device: str
    value: Any = None
    error: NettuiError | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


async def for_each_device(
    store: Store,
    names: list[str],
    action: Callable[[Provider], Awaitable[Any]],
    *,
    driver: str = "asyncssh",
    concurrency: int | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    on_done: Callable[[DeviceOutcome], None] | None = None,
) -> list[DeviceOutcome]:
    """Open a session to each device, run ``action`` on it, close it; at most ``concurrency``
    at a time (default: what suits the driver). Returns one outcome per device, in order."""
    if driver not in PROVIDERS:
        raise NettuiError(f"unknown driver {driver!r}", hint=f"use one of: {', '.join(PROVIDERS)}")
    prepared = await asyncio.to_thread(prepare_devices, store, names, timeout=timeout)
    concurrency = concurrency or DEFAULT_CONCURRENCY[driver]
    limit = asyncio.Semaphore(concurrency)
    # Threads for a blocking library (netmiko); the others run in this event loop.
    executor = (
        ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="nettui-device") if driver == "netmiko" else None
    )

    async def one(item: Any) -> DeviceOutcome:
        outcome = DeviceOutcome(item.target.name)
        async with limit:
            started = time.perf_counter()
            try:
                provider = await open_session(store, item, driver, executor=executor)
                try:
                    outcome.value = await action(provider)
                finally:
                    await provider.close()
            except NettuiError as exc:
                outcome.error = exc
            outcome.elapsed = time.perf_counter() - started
        if on_done is not None:
            on_done(outcome)
        return outcome

    try:
        return list(await asyncio.gather(*(one(item) for item in prepared)))
    finally:
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
