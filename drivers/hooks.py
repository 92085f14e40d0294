"""The python_hook provider: pro-code steps, limited to functions a package registered.

A hook is a function published under the ``nettui.hooks`` entry point group by an installed
distribution, e.g. in its ``pyproject.toml``::

    [project.entry-points."nettui.hooks"]
    allocate_vlan = "acme_nettui.hooks:allocate_vlan"

Catalog content names a hook (``action_config.hook``); it never names code. A name is only ever
looked up among the registered entry points, so ``os:system``, ``builtins:eval`` or any other
importable path is refused without being imported. A hook is called as
``hook(context, **kwargs)``; it may be sync (run in a worker thread, so a blocking hook does not
stall the event loop) or async (awaited). A hook that decides to leave the device alone raises
``catalog.errors.StepSkipped("why")``: the engine records the device's step as skipped with that
reason; any other exception fails the step as a :class:`HookError` carrying only its message.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from catalog.errors import NettuiError, StepSkipped
from drivers.redaction import redact

log = logging.getLogger(__name__)

HOOK_GROUP = "nettui.hooks"
MESSAGE_LIMIT = 500  # characters of a hook's own error message kept in a HookError


class HookError(NettuiError):
    """A hook is unknown, cannot be loaded, or failed; names the hook."""

    def __init__(self, hook: str, what: str, *, hint: str | None = None) -> None:
        self.hook = hook
        super().__init__(redact(what), where=f"python hook {hook!r}", hint=hint)


class UnknownHook(HookError):
    """The name is not registered in the ``nettui.hooks`` entry point group."""


def _registered() -> dict[str, list[EntryPoint]]:
    found: dict[str, list[EntryPoint]] = {}
    for ep in entry_points(group=HOOK_GROUP):
        same = found.setdefault(ep.name, [])
        if all(other.value != ep.value for other in same):  # one package seen twice is not a clash
            same.append(ep)
    return found


def registered_hooks() -> dict[str, EntryPoint]:
    """Every registered hook by name (the first registration where two packages clash)."""
    return {name: eps[0] for name, eps in sorted(_registered().items())}


def _registered_list(hooks: Mapping[str, Any]) -> str:
    return ", ".join(sorted(hooks)) if hooks else "none (no installed package registers a nettui.hooks entry point)"


def resolve_hook(name: str) -> Any:
    """The callable registered as ``name``; refuses anything else, without importing it."""
    if not isinstance(name, str) or not name:
        raise UnknownHook(str(name), "no hook name given", hint="set action_config.hook to a registered hook")
    registered = _registered()
    eps = registered.get(name)
    if not eps:
        raise UnknownHook(
            name,
            "not a registered hook; only functions registered in the nettui.hooks entry point group can run",
            hint=f"registered hooks: {_registered_list(registered)}",
        )
    if len(eps) > 1:
        # Two packages claim the name: running either could be the wrong code.
        targets = ", ".join(f"{ep.value} ({ep.dist.name if ep.dist else 'unknown package'})" for ep in eps)
        raise HookError(name, f"registered by more than one package: {targets}", hint="uninstall or rename one of them")
    ep = eps[0]
    message: str | None = None
    try:
        function = ep.load()
    except Exception as exc:  # any import-time failure of the plugin
        message = f"cannot be loaded from {ep.value}: {type(exc).__name__}: {exc}"
    if message is not None:
        raise HookError(name, message, hint="check that the package providing it is installed correctly")
    if not callable(function):
        raise HookError(name, f"{ep.value} is not callable")
    return function


async def run_hook(name: str, context: Mapping[str, Any], /, **kwargs: Any) -> Any:
    """Run the registered hook ``name`` with ``context`` and ``kwargs`` and return its result.

    A failure inside the hook becomes a :class:`HookError` carrying only the message: the
    original exception (and its traceback, whose frames may hold secrets from the context) is
    dropped rather than chained.
    """
    function = resolve_hook(name)
    log.debug("running python hook %s", name)
    message: str | None = None
    skipped: str | None = None
    try:
        if inspect.iscoroutinefunction(function):
            result = await function(context, **kwargs)
        else:
            result = await asyncio.to_thread(function, context, **kwargs)
            if inspect.isawaitable(result):  # a sync wrapper that returns a coroutine
                result = await result
    except StepSkipped as exc:  # the hook did nothing on purpose: the engine records a skip
        skipped = exc.what[:MESSAGE_LIMIT]
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        message = text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + "..."
    # Raised here, outside the except block, so the error has no __context__ either.
    if skipped is not None:
        raise StepSkipped(skipped)
    if message is not None:
        raise HookError(name, f"failed: {message}")
    return result


async def run_action_hook(action_config: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
    """Run a ``python_hook`` implementation: ``action_config.hook`` names the hook and the
    optional ``action_config.kwargs`` mapping is passed as keyword arguments."""
    name = action_config.get("hook")
    if not isinstance(name, str) or not name:
        raise UnknownHook(str(name or ""), "action_config.hook is missing", hint="name a registered hook")
    kwargs = action_config.get("kwargs") or {}
    if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
        raise HookError(name, "action_config.kwargs must be a mapping of argument names to values")
    return await run_hook(name, context, **kwargs)
