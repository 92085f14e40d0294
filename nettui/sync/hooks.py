"""The python hook that lets a Schedule (or any workflow) run a Nautobot sync through the engine.

Registered under ``nettui.hooks`` as ``nettui_nautobot_sync``. A task implementation of type
python_hook names it, with the sync's settings in the step's inputs::

    action_config: {hook: nettui_nautobot_sync, changes_device: false}
    # step input_mapping:
    nautobot_sync: {url: https://nautobot.example.net, token_ref: env:NAUTOBOT_TOKEN, delete: mark}

The sync itself is not about the device the step runs on: run the workflow on one device
(any), as backup-all runs on the devices it backs up.
"""

from __future__ import annotations

from typing import Any

from catalog.errors import NettuiError
from catalog.store import Store, open_store


def _store() -> Store:
    """The store of the execution that runs the hook (else the engine's, else the default)."""
    from nettui.engine.runner import CURRENT_STORE

    found = CURRENT_STORE.get()
    if found is not None:
        return found
    from nettui.engine import scheduling

    active = getattr(scheduling, "_ACTIVE_STORE", [])
    return active[0] if active else open_store()


def nautobot_sync(context: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    """``intended.nautobot_sync``: ``url``, ``token_ref``, optional ``delete`` (keep, mark,
    delete), ``full`` and ``dry_run``. Returns the sync's summary."""
    from nettui.sync.nautobot import parse_delete_policy, resolve_token, sync_nautobot

    spec = dict((context.get("intended") or {}).get("nautobot_sync") or {})
    url, token_ref = spec.get("url"), spec.get("token_ref")
    if not isinstance(url, str) or not isinstance(token_ref, str):
        raise NettuiError(
            "nautobot_sync needs url and token_ref",
            where="hook nettui_nautobot_sync",
            hint="e.g. nautobot_sync: {url: https://nautobot.example.net, token_ref: env:NAUTOBOT_TOKEN}",
        )
    summary = sync_nautobot(
        _store(),
        url,
        resolve_token(token_ref, where="nautobot_sync.token_ref"),
        dry_run=bool(spec.get("dry_run")),
        delete_policy=parse_delete_policy(str(spec.get("delete") or "keep")),
        full=bool(spec.get("full")),
    )
    return summary.to_dict()
