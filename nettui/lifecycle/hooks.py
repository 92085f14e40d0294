"""The python hook behind the library task ``lifecycle-action``: how schedules and workflows
run backups and compliance through the engine.

A Schedule row names a workflow (``backup-all``, ``compliance-run``) and its devices; the
engine runs the workflow like any other, and its one task step calls this hook on each
device, with the execution's store. Registered in pyproject.toml under ``nettui.hooks``.
"""

from __future__ import annotations

import asyncio
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


def lifecycle_action(context: dict[str, Any], **_kwargs: Any) -> Any:
    """``intended.lifecycle.action``: ``backup`` (this device), ``compliance`` (the checks
    listed, default all, on this device; ``live`` to read it now), ``record_restore``
    (count a restore of ``backup_id``) or ``upgrade`` (this device, as upgrade plan
    ``plan_id`` says: returns a coroutine, which drivers.hooks awaits in the engine's loop)."""
    from nettui.lifecycle import backup, compliance

    spec = dict((context.get("intended") or {}).get("lifecycle") or {})
    action = spec.get("action")
    if action == "upgrade":
        from nettui.lifecycle.upgrade import device_upgrade

        return device_upgrade(context, spec)
    device = str((context.get("device") or {}).get("name") or "")
    store = _store()
    if action == "backup":
        run = asyncio.run(backup.run_backups(store, [device], driver=str(spec.get("driver") or backup.DEFAULT_DRIVER)))
        outcome = run.devices[0]
        if not outcome.ok:
            raise NettuiError(f"backup of {device} failed: {outcome.error}")
        return {
            "device": device,
            "stored": outcome.stored,
            "unchanged": outcome.unchanged,
            "problems": outcome.problems,
        }
    if action == "compliance":
        requester = (context.get("meta") or {}).get("requested_by")
        result = asyncio.run(
            compliance.run_compliance(
                store,
                checks=list(spec.get("checks") or []) or None,
                devices=[device],
                live=bool(spec.get("live")),
                intended=dict(spec.get("intended") or {}),
                requested_by=str(requester) if requester else None,
            )
        )
        return {"device": device, "runs": result.runs, "summary": result.summary()}
    if action == "record_restore":
        backup_id = spec.get("backup_id")
        if not isinstance(backup_id, int):
            raise NettuiError("record_restore needs lifecycle.backup_id (a backup record id)")
        return {"backup_id": backup_id, "restore_count": backup.record_restore(store, backup_id)}
    raise NettuiError(f"unknown lifecycle action {action!r}", hint="use backup, compliance, record_restore or upgrade")
