"""An asyncio service in a background thread with its own event loop: how tests, benchmarks and
the demo run the lab and the bastion beside blocking clients (netmiko, the OpenSSH client)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Coroutine
from typing import Any, Protocol, TypeVar

_T = TypeVar("_T")


class Service(Protocol):
    def start(self) -> Awaitable[Any]: ...

    def stop(self) -> Awaitable[None]: ...


class ServiceThread:
    """Runs ``service.start()`` in a new thread's event loop, keeps the loop running until
    :meth:`stop`, then awaits ``service.stop()`` there."""

    def __init__(self, service: Service, what: str) -> None:
        self.service, self.what = service, what
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=f"nettui-{what}", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.service.start())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.service.stop())
        self.loop.close()

    def start(self, timeout: float = 30.0) -> None:
        """Start the thread and wait until the service has started (its error, if it failed)."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"the {self.what} did not start within {timeout} s")
        if self._error is not None:
            raise self._error

    def call(self, coro: Coroutine[Any, Any, _T], timeout: float = 60.0) -> _T:
        """Run a coroutine in the service's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the service and its thread."""
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
