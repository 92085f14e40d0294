"""Undo what an execution left pending when it ended without its runner.

A python_hook step may register an undo (``outputs.result.undo``: hook, kwargs, label; see
``runner.undo_record``). The runner runs it where a device's work stops early. Some executions end
with no runner to do that: the engine died (``service.recover_interrupted``), or the execution
waited for approval and was rejected, timed out or was cancelled (``approvals``). For those, the
pending records are found in the store: the execution's completed steps whose outputs carry
``result.undo`` and no ``undo`` outcome yet (the runner writes that outcome, with its audit
event, when it runs an undo). They are run newest first with the device's render context built
as the runner builds it, and each outcome is recorded exactly as the runner records it (on the
registering step and in the audit trail): "<label> reverted (why)", or "<label> NOT reverted
(why): <reason>" when the hook is missing, fails or refuses. A device whose work had finished
(its last workflow step completed or skipped) is left alone, as the runner leaves it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog import models as m
from catalog.context import inventory_contexts
from catalog.models.choices import StepStatus
from catalog.store import Store
from drivers.redaction import redact
from nettui.engine.runner import (
    device_context,
    execution_meta,
    record_event,
    record_undo,
    run_undo,
    step_rows,
    undo_record,
)

_T = TypeVar("_T")
GONE = "(a device no longer in the store)"
DEVICE_GONE = "its device was deleted from the store, so the undo cannot run; check the change by hand"


@dataclass
class _Pending:
    """One device's pending undo records and its render context."""

    name: str
    context: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)


def _pending(store: Store, execution_id: int) -> list[_Pending]:
    """The execution's pending undo records, per device (records in the order they were made)."""
    with store.read_session() as session:
        execution = session.scalars(
            select(m.Execution)
            .where(m.Execution.id == execution_id)
            .options(
                selectinload(m.Execution.workflow).selectinload(m.Workflow.steps),
                selectinload(m.Execution.requested_by),
            )
        ).one_or_none()
        if execution is None:
            return []
        rows = step_rows(session, execution_id)
        # A device whose last workflow step completed (or was skipped) had finished its work.
        last = max((s.order for s in execution.workflow.steps), default=None)
        finished_all = False
        finished: set[int] = set()
        for row in rows:
            if row.order == last and row.status in (StepStatus.COMPLETED, StepStatus.SKIPPED):
                if row.device_id is None:
                    finished_all = True
                else:
                    finished.add(row.device_id)
        per_device: dict[int | None, list[dict[str, Any]]] = {}
        devices: dict[int, m.Device] = {}
        for row in rows:
            if row.status != StepStatus.COMPLETED or "undo" in (row.outputs or {}):
                continue  # not done, or its undo already ran (reverted or not)
            name = row.workflow_step.name if row.workflow_step is not None else f"step {row.order}"
            record = undo_record(name, row.id, row.outputs or {})
            if record is None or finished_all or (row.device_id is not None and row.device_id in finished):
                continue
            per_device.setdefault(row.device_id, []).append(record)
            if row.device is not None:
                devices[row.device.id] = row.device
        if not per_device:
            return []
        contexts = inventory_contexts(session, list(devices.values()))
        meta = execution_meta(execution.id, execution.requested_by.username, bool(execution.context.get("dry_run")))
        saved = dict(execution.context.get("devices") or {})
        found = []
        for device_id, records in per_device.items():
            device = devices.get(device_id) if device_id is not None else None
            if device is None:  # deleted since: no context to run the undo with
                found.append(_Pending(GONE, {}, records))
                continue
            kept = {k: v for k, v in saved.get(device.name, {}).items() if k != "_undo"}
            context = device_context(contexts[device.id], dict(execution.inputs), meta, kept)
            found.append(_Pending(device.name, context, records))
        return found


def _keep_outcomes(store: Store, execution_id: int, done: list[_Pending]) -> None:
    """The records' outcomes in the execution's saved device context (``devices.<name>._undo``),
    as the runner keeps them."""
    with store.session() as session:
        execution = session.get(m.Execution, execution_id)
        if execution is None:
            return
        context = dict(execution.context)
        devices = {name: dict(values) for name, values in (context.get("devices") or {}).items()}
        for pending in done:
            if pending.name == GONE:
                continue
            saved = devices.setdefault(pending.name, {})
            records = {r.get("row"): r for r in saved.get("_undo", []) if isinstance(r, dict)}
            records.update({r["row"]: r for r in pending.records})
            saved["_undo"] = list(records.values())
        context["devices"] = devices
        execution.context = context


async def undo_pending(
    store: Store, execution_id: int, why: str, on_event: Callable[[str], None] | None = None
) -> list[str]:
    """Run the undo records the execution left pending (see the module's docstring) and record
    each outcome; the outcomes' texts ("<device>: <text>")."""
    said: list[str] = []

    def say(text: str) -> None:
        said.append(text)
        if on_event is not None:
            on_event(text)

    found = await asyncio.to_thread(_pending, store, execution_id)
    for pending in found:
        if pending.name == GONE:  # no device, no context to run the undo with
            for record in pending.records:
                text = await asyncio.to_thread(record_undo, store, execution_id, GONE, record, why, False, DEVICE_GONE)
                say(f"{GONE}: {text}")
            continue
        pending.context["_undo"] = pending.records
        await run_undo(store, execution_id, pending.name, pending.context, why, say)
    if found:
        await asyncio.to_thread(_keep_outcomes, store, execution_id, found)
    return said


def _run_coroutine(make: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run a coroutine to its end from synchronous code: here, or in a thread of its own when an
    event loop already runs in this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nettui-undo") as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def undo_pending_now(store: Store, execution_id: int, why: str) -> list[str]:
    """:func:`undo_pending` from synchronous code (an approval decision, a cancel, recovery),
    after the execution's end is committed. Should the undo itself break (the store, a bug), the
    execution's audit trail says so plainly: nothing else would."""
    failure: str | None = None
    try:
        return _run_coroutine(lambda: undo_pending(store, execution_id, why))
    except Exception as exc:  # recorded below, not raised: the execution has ended already
        failure = redact(f"{type(exc).__name__}: {exc}")[:500]
    text = f"pending undo records NOT run ({why}): {failure}; check the changes by hand"
    with store.session() as session:
        record_event(session, execution_id, "undo_failed", text)
    return [text]
