"""Running a workflow: submit an execution, then run its steps on its devices.

Every Execution and ExecutionStep row is written as it happens (a crash loses nothing that
was done). Steps run in order; a step that touches devices runs on all of them in parallel,
with bounded concurrency, one ExecutionStep per (step, device). Expressions, mappings and
templates are sandboxed Jinja2 (catalog.rendering).
"""

from __future__ import annotations

import asyncio
import copy
import os
import re
import socket
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Executable, Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from catalog import models as m
from catalog.context import InputError, inventory_contexts, validate_inputs
from catalog.errors import NettuiError, NotFoundError, StepSkipped
from catalog.matching import NoImplementationError, select_implementation
from catalog.models.choices import (
    ExecutionStatus,
    ImplementationType,
    OnFailure,
    StepStatus,
    StepType,
    UserRole,
)
from catalog.rendering import RenderError, evaluate, reads_only, render_template
from catalog.store import Store

# The store of the execution running in this task: python hooks (run in worker threads that
# copy the context) reach it here, e.g. nettui.lifecycle's backups and compliance runs.
CURRENT_STORE: ContextVar[Store | None] = ContextVar("nettui_current_store", default=None)
# The log of the python_hook step running in this task: an async hook (awaited in the engine's
# event loop) appends lines to it, and they reach the step's logs as they come (e.g. the stages
# of an OS upgrade). Not for sync hooks: they run in a worker thread.
CURRENT_STEP_LOG: ContextVar[list[str] | None] = ContextVar("nettui_current_step_log", default=None)
RUNNABLE = (ExecutionStatus.PENDING, ExecutionStatus.SCHEDULED)
_P = TypeVar("_P")
_STEPS: Table = m.ExecutionStep.__table__  # type: ignore[assignment]
_EVENTS: Table = m.ExecutionEvent.__table__  # type: ignore[assignment]
_LOCKS: Table = m.DeviceLock.__table__  # type: ignore[assignment]


def _set(table: Table, *columns: str) -> Executable:
    """``UPDATE table SET column=:p_column... WHERE id=:p_id``, built once: the journal runs
    many of these in one executemany (bind names cannot be the columns' own)."""
    values = {name: bindparam(f"p_{name}", type_=table.c[name].type) for name in columns}
    return update(table).where(table.c.id == bindparam("p_id")).values(**values)


# The runner's records, as statements built once: the journal sends all of one kind that
# arrive together as one executemany, instead of building and compiling a statement per record.
_START_ROW = insert(_STEPS).returning(_STEPS.c.id, sort_by_parameter_order=True)
_SET_IMPLEMENTATION = _set(_STEPS, "task_implementation_id")
_SET_LOGS = _set(_STEPS, "logs")
_END_ROW = _set(_STEPS, "status", "completed_at", "error_message", "outputs", "logs", "rendered_content", "inputs")
_TAKE_LOCK = insert(_LOCKS)
_ADD_EVENT = insert(_EVENTS)
# A lock's device_locked event: its time is taken when it goes in, after the lock's INSERT in
# the same transaction (the time the runner asked can come before the previous holder's
# release, and the audit trail would show two executions holding the device).
_LOCK_TAKEN = insert(_EVENTS)
_STAMPED: dict[Executable, str] = {_LOCK_TAKEN: "at"}
MAX_WAIT_S = 24 * 3600.0
CANCELLED = "cancelled while waiting"
HEARTBEAT_S = 5.0
LOCK_POLL_S = 0.5
DEFAULT_LOCK_TIMEOUT_S = 600.0


def process_owner() -> str:
    """``host:pid`` of this process: who runs an execution, and holds its device locks."""
    return f"{socket.gethostname()}:{os.getpid()}"


class ExecutionError(NettuiError):
    """An execution cannot be submitted or run as asked."""


def record_event(session: Any, execution_id: int, kind: str, detail: str = "", actor_id: int | None = None) -> None:
    """Append to the execution's audit trail (who, what, when)."""
    session.add(m.ExecutionEvent(execution_id=execution_id, kind=kind, detail=detail, actor_id=actor_id))


def step_rows(session: Any, execution_id: int) -> list[m.ExecutionStep]:
    """An execution's step rows in the order they were made, with their workflow step and
    device loaded (what undo and `nettui run --follow` read)."""
    return list(
        session.scalars(
            select(m.ExecutionStep)
            .where(m.ExecutionStep.execution_id == execution_id)
            .options(selectinload(m.ExecutionStep.workflow_step), selectinload(m.ExecutionStep.device))
            .order_by(m.ExecutionStep.id)
        ).all()
    )


def _event(execution_id: int, kind: str, detail: str, at: datetime) -> dict[str, Any]:
    """An audit event's row, for the journal's executemany (what record_event adds)."""
    return {"execution_id": execution_id, "kind": kind, "detail": detail, "actor_id": None, "at": at}


# -- submitting ---------------------------------------------------------------------------------


def merged_inputs(workflow: m.Workflow, given: dict[str, Any]) -> dict[str, Any]:
    """default_inputs, then JSON Schema ``default`` annotations, then what was given."""
    merged: dict[str, Any] = {}
    for name, spec in (workflow.input_schema.get("properties") or {}).items():
        if isinstance(spec, dict) and "default" in spec:
            merged[name] = spec["default"]
    merged.update(workflow.default_inputs or {})
    merged.update(given)
    return merged


def approval_step_first(workflow: m.Workflow) -> bool:
    """True when an unconditional approval step comes before any task step (and before any
    condition step that could skip it)."""
    for step in sorted(workflow.steps, key=lambda s: s.order):
        if step.step_type == StepType.APPROVAL and not step.condition.strip():
            return True
        if step.step_type in (StepType.TASK, StepType.CONDITION):
            return False
    return False


def submit(
    store: Store,
    workflow_slug: str,
    device_names: list[str],
    inputs: dict[str, Any],
    *,
    requested_by: str,
    dry_run: bool = False,
) -> int:
    """Check everything and record a new execution (pending, or awaiting approval); its id."""
    with store.session() as session:
        workflow = session.scalars(select(m.Workflow).where(m.Workflow.slug == workflow_slug)).one_or_none()
        if workflow is None:
            raise NotFoundError(f"no workflow '{workflow_slug}'", hint="`nettui catalog list --kind workflow`")
        if not workflow.enabled:
            raise ExecutionError(f"workflow '{workflow_slug}' is disabled")
        user = session.scalars(select(m.User).where(m.User.username == requested_by)).one_or_none()
        if user is None or not user.is_active:
            raise ExecutionError(
                f"no active user '{requested_by}'", hint=f"nettui users add {requested_by} --role operator"
            )
        if user.role == UserRole.VIEWER:
            raise ExecutionError(f"user '{requested_by}' is a viewer: only operators and above run workflows")
        devices = session.scalars(select(m.Device).where(m.Device.name.in_(device_names))).all()
        missing = sorted(set(device_names) - {d.name for d in devices})
        if missing:
            raise NotFoundError(f"no device {', '.join(map(repr, missing))}", hint="`nettui inventory list`")
        values = merged_inputs(workflow, inputs)
        validate_inputs(workflow.input_schema, values, where=f"workflow '{workflow_slug}' inputs")
        # approval_required: approved before it runs, unless its own approval step comes first
        # (checks may run before it, nothing that changes a device): then that step is the one
        # approval, and the approver sees the checks' results.
        wait_first = workflow.approval_required and not approval_step_first(workflow)
        execution = m.Execution(
            workflow=workflow,
            requested_by=user,
            status=ExecutionStatus.AWAITING_APPROVAL if wait_first else ExecutionStatus.PENDING,
            inputs=values,
            context={"dry_run": dry_run},
            target_devices=list(devices),
        )
        session.add(execution)
        session.flush()
        waiting = " (awaiting approval)" if wait_first else ""
        record_event(session, execution.id, "submitted", f"on {len(devices)} device(s){waiting}", user.id)
        return execution.id


# -- running ------------------------------------------------------------------------------------


@dataclass
class _Device:
    id: int
    name: str
    model: m.Device
    context: dict[str, Any]
    skipped_steps: set[str] = field(default_factory=set)  # steps a false condition guards


@dataclass
class _StepResult:
    ok: bool = True
    skipped: bool = False
    error: str = ""


def _duration(text: Any) -> float:
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", str(text))
    if not found:
        raise ExecutionError(f"bad duration {text!r}", hint="write 30s, 5m, 2h or 1d")
    value, unit = float(found.group(1)), found.group(2) or "s"
    return value * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def _until(value: Any, context: dict[str, Any], where: str) -> datetime:
    """A wait's ``until``: an ISO time (a template allowed), naive meaning UTC."""
    text = _resolve_mapping(value, context, f"step '{where}' until")
    try:
        when = datetime.fromisoformat(str(text))
    except ValueError:
        raise ExecutionError(
            f"bad time {text!r} in step '{where}'", hint="ISO 8601, e.g. 2026-12-01T02:00:00Z"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _resolve_mapping(mapping: Any, context: dict[str, Any], where: str) -> Any:
    """Strings holding ``{{`` are evaluated (a lone ``{{ expr }}`` keeps its type), recursively."""
    if isinstance(mapping, dict):
        return {k: _resolve_mapping(v, context, f"{where}.{k}") for k, v in mapping.items()}
    if isinstance(mapping, list):
        return [_resolve_mapping(v, context, f"{where}[{i}]") for i, v in enumerate(mapping)]
    if isinstance(mapping, str) and ("{{" in mapping or "{%" in mapping):
        text = mapping.strip()
        if text.startswith("{{") and text.endswith("}}") and text.count("{{") == 1:
            return evaluate(text, context, where=where)
        return render_template(mapping, context, where=where)
    return mapping


_ONLY_INPUTS = frozenset({"inputs"})


def _mapping_reads_only_inputs(mapping: Any) -> bool:
    """Whether every template in ``mapping`` reads ``inputs`` alone: then it resolves the
    same for every device of an execution."""
    if isinstance(mapping, dict):
        return all(_mapping_reads_only_inputs(v) for v in mapping.values())
    if isinstance(mapping, list):
        return all(_mapping_reads_only_inputs(v) for v in mapping)
    if isinstance(mapping, str) and ("{{" in mapping or "{%" in mapping):
        return reads_only(mapping, _ONLY_INPUTS)
    return True


@dataclass(frozen=True, slots=True)
class _Rows:
    """A record as statements built once (``parts``: statement and parameters, run in order
    in one transaction). The journal runs all the parts of one statement that arrive together
    as one executemany. With ``returning``, the first part's returned id is the result."""

    parts: tuple[tuple[Executable, dict[str, Any]], ...]
    returning: bool = False


_Action = Callable[[Any], Any] | _Rows


class _Journal:
    """The runner's step records, committed in groups: what arrives while a commit is under
    way goes into the next one (group commit). With few devices that is one write per record,
    as before; with hundreds at once, one transaction carries many, instead of every device's
    thread queueing for the store's write lock, and the records of one kind go in as one
    executemany. Records still reach the store within a few milliseconds of happening."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: list[tuple[_Action, asyncio.Future[Any] | None, Any]] = []
        self._keyed: dict[Any, int] = {}  # key -> its action's index in the queue
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None

    async def call(self, action: _Action) -> Any:
        """Run ``action(session)`` (or its statements) in the next commit; its result once
        committed."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((action, future, None))
        self._kick()
        return await future

    def post(self, action: _Action, *, key: Any = None) -> None:
        """Run ``action`` in the next commit, without waiting for it. An action with the
        ``key`` of one still queued takes its place (a newer value of the same thing)."""
        if key is not None:
            queued = self._keyed.get(key)
            if queued is not None and queued < len(self._queue) and self._queue[queued][2] == key:
                self._queue[queued] = (action, None, key)
                return
            self._keyed[key] = len(self._queue)
        self._queue.append((action, None, key))
        self._kick()

    async def flush(self) -> None:
        """Wait until everything queued so far is committed; raise the first error of a
        posted record, if any."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _kick(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue, self._keyed = self._queue, [], {}
            results = await asyncio.to_thread(self._commit, [action for action, _, _ in batch])
            for (_, future, _), (ok, value) in zip(batch, results, strict=True):
                if future is None:
                    if not ok and self._error is None:
                        self._error = value
                elif not future.done():
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)

    def _commit(self, batch: list[_Action]) -> list[tuple[bool, Any]]:
        try:
            with self.store.session() as session:
                return [(True, value) for value in _run_batch(session, batch)]
        except Exception:  # one record failed: the others go in one by one, each on its own
            outcomes: list[tuple[bool, Any]] = []
            for action in batch:
                try:
                    with self.store.session() as session:
                        outcomes.append((True, _run_batch(session, [action])[0]))
                except Exception as exc:
                    outcomes.append((False, exc))
            return outcomes


def _run_batch(session: Any, batch: list[_Action]) -> list[Any]:
    """Run the records in order, the statements of consecutive ``_Rows`` records grouped into
    one executemany per statement; results in the records' order."""
    results: list[Any] = [None] * len(batch)
    pending: dict[Executable, list[tuple[int | None, dict[str, Any]]]] = {}

    def send() -> None:
        for statement, entries in pending.items():
            rows = [params for _, params in entries]
            stamped = _STAMPED.get(statement)
            if stamped is not None:  # the time it goes in, after the statements before it
                now = m.utcnow()
                rows = [{**params, stamped: now} for params in rows]
            result = session.execute(statement, rows)
            if any(index is not None for index, _ in entries):
                for (index, _), row in zip(entries, result.all(), strict=True):
                    if index is not None:
                        results[index] = int(row[0])
        pending.clear()

    for index, action in enumerate(batch):
        if isinstance(action, _Rows):
            for part, (statement, params) in enumerate(action.parts):
                returns = action.returning and part == 0
                pending.setdefault(statement, []).append((index if returns else None, params))
        else:
            send()  # what came before this action goes in before it
            results[index] = action(session)
    send()
    return results


class _LiveLog(list[str]):
    """A step's log lines; each new line reaches the store as it arrives (through the
    journal), not only when the step ends."""

    def __init__(self, runner: Runner, row_id: int) -> None:
        super().__init__()
        self.runner, self.row_id = runner, row_id

    def append(self, line: str) -> None:
        super().append(line)
        text = "\n".join(self) + "\n"
        row_id = self.row_id
        self.runner.journal.post(
            _Rows(((_SET_LOGS, {"p_id": row_id, "p_logs": text}),)),
            key=("logs", row_id),  # a later line replaces this update if it has not gone in yet
        )


class Runner:
    """Runs one execution. ``provider_factory(store, device_name)`` opens a device session;
    by default the netmiko or scrapli provider through drivers.connect."""

    def __init__(
        self,
        store: Store,
        execution_id: int,
        *,
        driver: str | None = None,
        concurrency: int = 20,
        on_event: Callable[[str], None] | None = None,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S,
    ) -> None:
        self.store = store
        self.execution_id = execution_id
        self.driver = driver
        self.concurrency = concurrency
        self.on_event = on_event or (lambda _text: None)
        self.lock_timeout = lock_timeout
        self.owner = process_owner()
        self._locked: set[int] = set()
        self._locked_names: dict[int, str] = {}
        self.journal = _Journal(store)
        self._targets: list[_Device] = []
        self._prepared: asyncio.Future[dict[str, Any]] | None = None
        self._shares_inputs: dict[int, bool] = {}  # step id -> its input_mapping reads only inputs
        self._resolved_inputs: dict[int, tuple[Any, Any]] = {}  # step id -> (inputs, mapping resolved)

    # Each write is its own short transaction, so progress is visible (and kept) at once.
    def _write(self, action: Callable[[Any], Any]) -> Any:
        with self.store.session() as session:
            return action(session)

    def _claim(self) -> bool:
        """pending/scheduled -> running in one conditional UPDATE: two runners never both win."""

        def claim(session: Any) -> bool:
            result = session.execute(
                update(m.Execution)
                .where(m.Execution.id == self.execution_id, m.Execution.status.in_(RUNNABLE))
                .values(
                    status=ExecutionStatus.RUNNING, started_at=m.utcnow(), owner=self.owner, heartbeat_at=m.utcnow()
                )
            )
            if result.rowcount == 1:
                record_event(session, self.execution_id, "started")
                return True
            return False

        return bool(self._write(claim))

    async def run(self) -> ExecutionStatus:
        CURRENT_STORE.set(self.store)
        if not await asyncio.to_thread(self._claim):
            with self.store.read_session() as session:
                execution = session.get(m.Execution, self.execution_id)
                if execution is None:
                    raise NotFoundError(f"no execution {self.execution_id}")
                raise ExecutionError(
                    f"execution {self.execution_id} is {execution.status.value}, not pending",
                    hint="an execution awaiting approval runs once approved",
                )
        with self.store.read_session() as session:
            execution = session.scalars(
                select(m.Execution)
                .where(m.Execution.id == self.execution_id)
                .options(
                    selectinload(m.Execution.workflow)
                    .selectinload(m.Workflow.steps)
                    .selectinload(m.WorkflowStep.task)
                    .selectinload(m.TaskDefinition.implementations)
                    .selectinload(m.TaskImplementation.platform),
                    selectinload(m.Execution.workflow)
                    .selectinload(m.Workflow.steps)
                    .selectinload(m.WorkflowStep.task)
                    .selectinload(m.TaskDefinition.implementations)
                    .selectinload(m.TaskImplementation.manufacturer),
                    selectinload(m.Execution.target_devices)
                    .selectinload(m.Device.platform)
                    .selectinload(m.Platform.manufacturer),
                    selectinload(m.Execution.target_devices).selectinload(m.Device.manufacturer),
                    selectinload(m.Execution.target_devices).selectinload(m.Device.role),
                    selectinload(m.Execution.target_devices).selectinload(m.Device.location),
                    selectinload(m.Execution.target_devices).selectinload(m.Device.tenant),
                    selectinload(m.Execution.target_devices).selectinload(m.Device.tags),
                    selectinload(m.Execution.requested_by),
                )
            ).one()
            contexts = inventory_contexts(session, list(execution.target_devices))
            session.expunge_all()  # plain objects from here on: the run outlives this session
            workflow, inputs = execution.workflow, dict(execution.inputs)
            dry_run = bool(execution.context.get("dry_run"))
            resume_after = int(execution.context.get("resume_after", 0))
            saved = dict(execution.context.get("devices", {}))
            requester = execution.requested_by.username
            if self.driver is None:  # chosen by whoever submitted it (`nettui run --driver`)
                self.driver = execution.context.get("driver")
        meta = execution_meta(self.execution_id, requester, dry_run)
        devices = [
            _Device(d.id, d.name, d, device_context(contexts[d.id], inputs, meta, saved.get(d.name, {})))
            for d in execution.target_devices
        ]
        shared: dict[str, Any] = {"inputs": inputs, "meta": meta}
        self._targets = devices
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            return await self._steps(workflow, devices, shared, dry_run, resume_after)
        finally:
            heartbeat.cancel()
            await asyncio.to_thread(self._release_locks)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            await asyncio.to_thread(
                self._write,
                lambda s: s.execute(
                    update(m.Execution).where(m.Execution.id == self.execution_id).values(heartbeat_at=m.utcnow())
                ),
            )

    async def _steps(
        self,
        workflow: m.Workflow,
        devices: list[_Device],
        shared: dict[str, Any],
        dry_run: bool,
        resume_after: int,
    ) -> ExecutionStatus:
        status = ExecutionStatus.COMPLETED
        skip_rest = False
        steps = sorted(workflow.steps, key=lambda s: s.order)
        cancelled = False
        for index, step in enumerate(steps):
            if step.order <= resume_after:
                continue  # done before the approval this run resumes from
            if not cancelled and await asyncio.to_thread(self._cancel_requested):
                cancelled, skip_rest = True, True
                status = ExecutionStatus.CANCELLED
                self.on_event("cancelled: stopping before the next step")
                await self._undo(devices, "the execution was cancelled")
            if skip_rest:
                why = "skipped: the execution was cancelled" if cancelled else "skipped: an earlier step failed"
                await asyncio.to_thread(self._record_skipped, step, devices, why)
                continue
            self.on_event(f"step {step.order} {step.name} ({step.step_type.value})")
            if step.step_type == StepType.APPROVAL:
                await asyncio.to_thread(self._pause_for_approval, step, devices)
                return ExecutionStatus.AWAITING_APPROVAL
            results = await self._run_step(step, devices, shared, dry_run, steps[index + 1 :])
            failed = [r for r in results if not r.ok]
            if failed and any(r.error == CANCELLED for r in failed):
                cancelled, skip_rest, status = True, True, ExecutionStatus.CANCELLED
            elif failed:
                self.on_event(f"step {step.name} failed: {failed[0].error}")
                if step.on_failure == OnFailure.STOP:
                    status = ExecutionStatus.FAILED
                    skip_rest = True
                elif step.on_failure == OnFailure.SKIP_REMAINING:
                    skip_rest = True
            if failed and (skip_rest or step.on_failure != OnFailure.CONTINUE):
                # What earlier steps registered as undoable is undone where the work stops:
                # on every device when later steps will not run, else on the devices that failed.
                stopped = devices if skip_rest and index + 1 < len(steps) else _failed_devices(step, devices, results)
                await self._undo(stopped, "cancelled" if cancelled else f"step '{step.name}' failed")
        await asyncio.to_thread(self._finish, status, devices, shared)
        return status

    # -- steps ------------------------------------------------------------------------------

    async def _run_step(
        self,
        step: m.WorkflowStep,
        devices: list[_Device],
        shared: dict[str, Any],
        dry_run: bool,
        later: list[m.WorkflowStep],
    ) -> list[_StepResult]:
        per_device = bool(devices) and step.step_type in (StepType.TASK, StepType.VALIDATION, StepType.CONDITION)
        if not per_device:
            results = [await self._one(step, None, shared, dry_run, later)]
        else:
            limit = asyncio.Semaphore(self.concurrency)

            async def guarded(device: _Device) -> _StepResult:
                async with limit:
                    return await self._one(step, device, device.context, dry_run, later)

            results = list(await asyncio.gather(*(guarded(d) for d in devices)))
        await self.journal.flush()  # the step's records are in the store before anything follows
        return results

    async def _one(
        self,
        step: m.WorkflowStep,
        device: _Device | None,
        context: dict[str, Any],
        dry_run: bool,
        later: list[m.WorkflowStep],
    ) -> _StepResult:
        row_id = int(await self.journal.call(self._start_row(step, device)))
        logs: list[str] = _LiveLog(self, row_id)
        try:
            if device is not None and step.name in device.skipped_steps:
                self._end_row(row_id, StepStatus.SKIPPED, "skipped: a condition is false")
                return _StepResult(skipped=True)
            if step.condition and not evaluate(step.condition, context, where=f"step '{step.name}' condition"):
                self._end_row(row_id, StepStatus.SKIPPED, "skipped: its condition is false")
                return _StepResult(skipped=True)
            outputs: dict[str, Any] = {}
            rendered = ""
            step_inputs: dict[str, Any] = {}
            if step.step_type == StepType.TASK:
                assert device is not None and step.task is not None
                step_inputs = self._step_inputs(step, context)
                rendered, outputs = await self._task(step, device, step_inputs, dry_run, logs, row_id)
                _remember_undo(device, step, row_id, outputs)
            elif step.step_type == StepType.VALIDATION:
                await self._validate(step, device, context, logs)
            elif step.step_type == StepType.CONDITION:
                expression = str(step.config.get("expression", "true"))
                if not evaluate(expression, context, where=f"step '{step.name}'"):
                    guards = step.config.get("guards") or ([later[0].name] if later else [])
                    if device is not None:
                        device.skipped_steps.update(guards)
                    logs.append(f"false: skipping {', '.join(guards) or 'nothing'}")
                else:
                    logs.append("true")
            elif step.step_type == StepType.NOTIFICATION:
                await self._notify(step, context, logs)
            elif step.step_type == StepType.WAIT:
                if step.config.get("until"):
                    until = _until(step.config["until"], context, step.name)
                    seconds = min(max(0.0, (until - m.utcnow()).total_seconds()), MAX_WAIT_S)
                else:
                    seconds = min(_duration(step.config.get("duration", "0s")), MAX_WAIT_S)
                logs.append(f"waiting {seconds:g} s")
                await self._wait(seconds)
            if step.output_mapping:
                mapped = _resolve_mapping(step.output_mapping, {**context, "outputs": outputs}, step.name)
                context.update(mapped)
            self._end_row(
                row_id,
                StepStatus.COMPLETED,
                "",
                outputs=outputs,
                logs=logs,
                rendered=rendered,
                inputs=step_inputs,
            )
            return _StepResult()
        except StepSkipped as exc:  # the hook left the device alone on purpose
            self._end_row(row_id, StepStatus.SKIPPED, f"skipped: {exc.render()}", logs=logs)
            return _StepResult(skipped=True)
        except (NettuiError, RenderError, InputError, NoImplementationError) as exc:
            self._end_row(row_id, StepStatus.FAILED, exc.render(), logs=logs)
            return _StepResult(ok=False, error=exc.what if exc.what == CANCELLED else exc.render())

    async def _notify(self, step: m.WorkflowStep, context: dict[str, Any], logs: list[str]) -> None:
        """Log the subject; with ``webhook`` (a ProviderConfig name) also POST it there. A failed
        notification is logged and fails nothing, unless the step says ``required: true``."""
        config = step.config
        subject = render_template(str(config.get("subject", step.name)), context, where=step.name)
        logs.append(f"notify {config.get('to', 'log')}: {subject}")
        self.on_event(f"notification: {subject}")
        deliveries: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        if config.get("webhook"):
            name = str(config["webhook"])
            deliveries.append((f"webhook {name}", lambda: self._post_webhook(name, config, subject, context)))
        if config.get("email"):
            deliveries.append(
                (f"email via {config.get('smtp', 'smtp')}", lambda: self._send_email(config, subject, context))
            )
        for label, deliver in deliveries:
            try:
                await deliver()
                logs.append(f"{label}: delivered")
            except (NettuiError, OSError) as exc:
                what = exc.what if isinstance(exc, NettuiError) else f"{type(exc).__name__}: {exc}"
                logs.append(f"{label}: not delivered: {what}")
                if config.get("required"):
                    raise ExecutionError(f"{label}: not delivered: {what}") from None

    async def _post_webhook(self, name: str, config: dict[str, Any], subject: str, context: dict[str, Any]) -> None:
        from drivers.http_provider import HttpApiProvider

        def load() -> HttpApiProvider:
            with self.store.read_session() as session:
                found = session.scalars(select(m.ProviderConfig).where(m.ProviderConfig.name == name)).one_or_none()
                if found is None:
                    raise ExecutionError(f"no provider config '{name}' for the webhook")
                return HttpApiProvider.from_config(found)  # resolves its secrets now, in the session

        provider = await asyncio.to_thread(load)
        body = _resolve_mapping(config.get("body", {"subject": subject}), context, "webhook body")
        async with provider:
            await provider.request(str(config.get("method", "POST")), str(config.get("path", "/")), json=body)

    async def _send_email(self, config: dict[str, Any], subject: str, context: dict[str, Any]) -> None:
        """Mail ``subject`` (and ``body``) to ``email`` through the SMTP server a ProviderConfig
        describes (settings host, port, sender, starttls; optional username/password entries)."""
        import smtplib
        from email.message import EmailMessage

        from catalog.secrets import resolve_group

        name = str(config.get("smtp", "smtp"))

        def send() -> None:
            with self.store.read_session() as session:
                found = session.scalars(select(m.ProviderConfig).where(m.ProviderConfig.name == name)).one_or_none()
                if found is None:
                    raise ExecutionError(f"no provider config '{name}' for email")
                settings = dict(found.settings)
                secrets = resolve_group(found.credentials) if found.credentials else {}
            recipients = config["email"] if isinstance(config["email"], list) else [config["email"]]
            message = EmailMessage()
            message["Subject"] = subject
            message["From"] = str(settings.get("sender", "nettui@localhost"))
            message["To"] = ", ".join(map(str, recipients))
            message.set_content(render_template(str(config.get("body", subject)), context, where="email body"))
            with smtplib.SMTP(
                str(settings.get("host", "127.0.0.1")), int(settings.get("port", 25)), timeout=10
            ) as smtp:
                if settings.get("starttls"):
                    smtp.starttls()
                if "username" in secrets and "password" in secrets:
                    smtp.login(secrets["username"].reveal(), secrets["password"].reveal())
                smtp.send_message(message)

        await asyncio.to_thread(send)

    async def _validate(
        self, step: m.WorkflowStep, device: _Device | None, context: dict[str, Any], logs: list[str]
    ) -> None:
        """A validation asserts one of: ``expression`` over the context; ``schema`` (JSON
        Schema) over ``value`` (an expression); or, with ``command``, the device's answer
        (``output``, and ``parsed`` by ntc-templates) must make ``expression`` true."""
        config = step.config
        where = f"step '{step.name}'"
        message = str(config.get("message") or "")
        if "schema" in config:
            value = evaluate(str(config.get("value", "outputs")), context, where=f"{where} value")
            try:
                validate_inputs(config["schema"], value, where=where)
            except InputError as exc:
                raise ExecutionError(message or exc.what) from None
            logs.append("passed: the value fits the schema")
            return
        scope = dict(context)
        if "command" in config:
            if device is None:
                raise ExecutionError(f"{where}: a command validation needs target devices")
            command = render_template(str(config["command"]), context, where=f"{where} command").strip()
            provider = await self._connect(device)
            try:
                result = await provider.send_command(command, parse=True)
            finally:
                await provider.close()
            scope.update(output=result.output, parsed=result.parsed or [])
            logs.append(f"ran: {command}")
        expression = str(config.get("expression", "true"))
        if not evaluate(expression, scope, where=where):
            raise ExecutionError(message or f"validation failed: {expression}")
        logs.append(f"passed: {expression}")

    def _step_inputs(self, step: m.WorkflowStep, context: dict[str, Any]) -> Any:
        """The step's input_mapping resolved for a device. A mapping that reads only the
        execution's inputs resolves once for all its devices (each gets its own copy)."""
        where = f"step '{step.name}' input_mapping"
        shared = self._shares_inputs.get(step.id)
        if shared is None:
            shared = self._shares_inputs[step.id] = _mapping_reads_only_inputs(step.input_mapping)
        if not shared:
            return _resolve_mapping(step.input_mapping, context, where)
        inputs = context.get("inputs")
        resolved = self._resolved_inputs.get(step.id)
        if resolved is None or resolved[0] is not inputs:  # another inputs object: resolve again
            resolved = self._resolved_inputs[step.id] = (inputs, _resolve_mapping(step.input_mapping, context, where))
        return copy.deepcopy(resolved[1])

    async def _task(
        self,
        step: m.WorkflowStep,
        device: _Device,
        step_inputs: dict[str, Any],
        dry_run: bool,
        logs: list[str],
        row_id: int,
    ) -> tuple[str, dict[str, Any]]:
        assert step.task is not None
        impl = select_implementation(step.task, device.model)
        self._set_implementation(row_id, impl.id)
        validate_inputs(step.task.input_schema, step_inputs, where=f"task '{step.task.slug}' inputs")
        context = {**device.context, "intended": step_inputs}
        rendered = render_template(impl.template_content, context, where=f"implementation '{impl.slug}'")
        outputs: dict[str, Any] = {"config": rendered, "changed": False, "checks": []}
        if impl.implementation_type == ImplementationType.GRAPHQL_QUERY:
            # A read (Nautobot's GraphQL has no mutations): it runs in a dry run too, so that the
            # steps after it render from the source of truth as it is now.
            if dry_run:
                logs.append(f"dry run: the query of {impl.slug} reads only; it runs")
            return rendered, await self._graphql(impl, device, context, outputs, logs)
        if dry_run:
            logs.append(f"dry run: rendered with {impl.slug}; nothing sent")
            return rendered, outputs
        if impl.implementation_type == ImplementationType.PYTHON_HOOK:
            return rendered, await self._hook(impl, device, context, outputs, logs)
        if impl.implementation_type == ImplementationType.API_CALL:
            return rendered, await self._api_call(impl, device, context, outputs, logs)

        await self._lock(device, logs)
        provider = await self._connect(device)
        try:
            outputs["checks"] += await self._checks("pre", impl.pre_checks, provider, context, logs)
            refused = [c for c in outputs["checks"] if not c["passed"]]
            if refused:  # a pre-check guards the change: nothing is sent when one fails
                raise ExecutionError(f"pre-check '{refused[0]['name']}' did not pass; nothing was sent")
            lines = [line for line in rendered.splitlines() if line.strip()]
            if impl.implementation_type == ImplementationType.JINJA2_PAYLOAD:
                outputs["results"] = {line: (await provider.send_command(line)).output for line in lines}
            else:
                await provider.send_config(lines)
                outputs["changed"] = True
                logs.append(f"sent {len(lines)} line(s) with {impl.slug}")
            outputs["checks"] += await self._checks("post", impl.post_checks, provider, context, logs)
        finally:
            await provider.close()
        failed = [c for c in outputs["checks"] if not c["passed"]]
        if failed:
            raise ExecutionError(f"{failed[0]['phase']}-check '{failed[0]['name']}' did not pass")
        return rendered, outputs

    async def _api_call(
        self,
        impl: m.TaskImplementation,
        device: _Device,
        context: dict[str, Any],
        outputs: dict[str, Any],
        logs: list[str],
    ) -> dict[str, Any]:
        """An api_call implementation: its action_config sent through the HTTP provider config
        that provider selection picks for the device and implementation."""
        from drivers.http_provider import HttpApiProvider

        provider, config_name = await asyncio.to_thread(
            self._selected_provider,
            HttpApiProvider.from_config,
            device,
            impl,
            "no provider config for its API",
            "add a provider config with settings.base_url for this provider",
        )
        await self._lock(device, logs)
        async with provider:
            answer = await provider.api_call(impl.action_config, context)
        outputs.update(status=answer.status, response=answer.json if answer.json is not None else answer.text)
        outputs["changed"] = answer.method.upper() not in ("GET", "HEAD", "OPTIONS")
        logs.append(f"{answer.method} {answer.path} via {config_name}: {answer.status}")
        return outputs

    def _selected_provider(
        self,
        build: Callable[[m.ProviderConfig], _P],
        device: _Device,
        impl: m.TaskImplementation,
        missing: str,
        hint: str,
    ) -> tuple[_P, str]:
        """The provider built from the config that provider selection picks for the device and
        implementation (secrets resolved now, in the session), and that config's name. Blocking."""
        from drivers.selection import select_provider

        with self.store.session() as session:
            here = session.get(m.Device, device.id)
            assert here is not None
            chosen = select_provider(session, here, session.get(m.TaskImplementation, impl.id))
            if chosen.config is None:
                raise ExecutionError(f"implementation '{impl.slug}': {missing} ({chosen.reason})", hint=hint)
            return build(chosen.config), chosen.config.name

    async def _graphql(
        self,
        impl: m.TaskImplementation,
        device: _Device,
        context: dict[str, Any],
        outputs: dict[str, Any],
        logs: list[str],
    ) -> dict[str, Any]:
        """A graphql_query implementation: its action_config (``query``, ``variables`` rendered
        from the context) run through the Nautobot provider config that provider selection picks
        for the device and implementation; the query's ``data`` becomes ``outputs.data``."""
        from drivers.nautobot_provider import NautobotProvider

        provider, config_name = await asyncio.to_thread(
            self._selected_provider,
            NautobotProvider.from_config,
            device,
            impl,
            "no Nautobot provider config",
            "add a provider config with settings.url and a secrets group holding token",
        )
        async with provider:
            data = await provider.graphql_query(impl.action_config, context)
        outputs.update(data=data, changed=False)
        logs.append(f"GraphQL query via {config_name}: {', '.join(data) or 'no data'}")
        return outputs

    async def _hook(
        self,
        impl: m.TaskImplementation,
        device: _Device,
        context: dict[str, Any],
        outputs: dict[str, Any],
        logs: list[str],
    ) -> dict[str, Any]:
        """A python_hook implementation: the registered hook its action_config names (and only
        a registered one) gets the render context; what it returns becomes ``result``."""
        import json

        from drivers.hooks import run_action_hook

        await self._lock(device, logs)  # a hook may change the device like any other task
        token = CURRENT_STEP_LOG.set(logs)
        try:
            # meta.implementation: which implementation runs the hook (e.g. for provider selection)
            meta = {**(context.get("meta") or {}), "implementation": impl.slug}
            result = await run_action_hook(impl.action_config, {**context, "meta": meta})
        finally:
            CURRENT_STEP_LOG.reset(token)
        try:
            json.dumps(result)
        except (TypeError, ValueError):
            result = repr(result)  # the store keeps JSON; anything else is kept as text
        outputs.update(result=result, changed=bool(impl.action_config.get("changes_device", True)))
        logs.append(f"ran hook {impl.action_config.get('hook')} with {impl.slug}")
        return outputs

    async def _undo(self, devices: list[_Device], why: str) -> None:
        """Run the pending undo records of ``devices`` (newest first), recording each outcome
        (:func:`run_undo`)."""
        for device in devices:
            await run_undo(self.store, self.execution_id, device.name, device.context, why, self.on_event)

    async def _checks(
        self, phase: str, checks: list[Any], provider: Any, context: dict[str, Any], logs: list[str]
    ) -> list[dict[str, Any]]:
        results = []
        answers: dict[str, str] = {}  # checks of one phase that read the same command read it once
        for i, check in enumerate(checks):
            name = check.get("name") or f"{phase}[{i}]"
            output = ""
            if check.get("command"):
                command = render_template(check["command"], context, where=f"{phase}-check {name}").strip()
                if command not in answers:
                    answers[command] = (await provider.send_command(command)).output
                output = answers[command]
            passed = bool(evaluate(check["expect"], {**context, "output": output}, where=f"{phase}-check {name}"))
            logs.append(f"{phase}-check {name}: {'passed' if passed else 'FAILED'}")
            results.append({"name": name, "phase": phase, "passed": passed, "output": output})
            if phase == "pre" and not passed:
                break
        return results

    # -- cancellation -----------------------------------------------------------------------

    def _cancel_requested(self) -> bool:
        with self.store.read_session() as session:
            return bool(
                session.scalar(
                    select(m.ExecutionEvent.id).where(
                        m.ExecutionEvent.execution_id == self.execution_id, m.ExecutionEvent.kind == "cancel_requested"
                    )
                )
            )

    async def _wait(self, seconds: float) -> None:
        """Sleep, but notice a cancellation within a second: a wait is a safe point."""
        deadline = asyncio.get_running_loop().time() + seconds
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            await asyncio.sleep(min(1.0, left))
            if await asyncio.to_thread(self._cancel_requested):
                raise ExecutionError(CANCELLED)

    # -- device locks -----------------------------------------------------------------------

    async def _connect(self, device: _Device) -> Any:
        """A session to the device: its credentials and host key were read for every target at
        once (the first time a step needed them), the driver is --driver or provider selection."""
        from drivers.base import DEFAULT_TIMEOUT_S
        from drivers.connect import choose_driver, open_session, prepare_each

        if self._prepared is None:  # the first device to get here reads them all; others wait
            names = [d.name for d in self._targets]
            self._prepared = asyncio.ensure_future(asyncio.to_thread(prepare_each, self.store, names))
        prepared = (await self._prepared).get(device.name)
        if prepared is None:  # not a target of this execution (cannot happen): prepare it alone
            prepared = (await asyncio.to_thread(prepare_each, self.store, [device.name]))[device.name]
        if isinstance(prepared, NettuiError):
            raise prepared
        driver, retries = self.driver, 0
        if driver is None:
            choice = await asyncio.to_thread(choose_driver, self.store, device.name)
            driver, retries = choice.driver, choice.retries or 0
            target = replace(prepared.target, timeout=choice.timeout or DEFAULT_TIMEOUT_S)
            prepared = replace(prepared, target=target)
        return await open_session(self.store, prepared, driver, retries=retries)

    async def _lock(self, device: _Device, logs: list[str]) -> None:
        """Take the device's lock (held until the execution ends or pauses), waiting for
        another execution to release it, up to the lock timeout."""
        if device.id in self._locked:
            return
        deadline = asyncio.get_running_loop().time() + self.lock_timeout
        announced = False
        while True:
            holder = await self._try_lock(device.id, device.name)
            if holder is None:
                self._locked.add(device.id)
                return
            if not announced:
                logs.append(f"waiting: execution {holder} is changing {device.name}")
                announced = True
            if asyncio.get_running_loop().time() > deadline:
                raise ExecutionError(
                    f"device {device.name} stayed locked by execution {holder} for {self.lock_timeout:g} s",
                    hint="see `nettui executions show " + str(holder) + "`",
                )
            await asyncio.sleep(LOCK_POLL_S)

    async def _try_lock(self, device_id: int, device_name: str) -> int | None:
        """None when the lock is ours now, else the id of the execution holding it. The lock is
        one INSERT that the unique device_id lets only one execution win (taken in the journal's
        next commit, with other devices' records)."""

        now = m.utcnow()
        lock = {"device_id": device_id, "execution_id": self.execution_id, "owner": self.owner, "acquired_at": now}
        take = _Rows(((_TAKE_LOCK, lock), (_LOCK_TAKEN, _event(self.execution_id, "device_locked", device_name, now))))
        try:
            await self.journal.call(take)
            self._locked_names[device_id] = device_name
            return None
        except IntegrityError:
            return await asyncio.to_thread(self._lock_holder, device_id)

    def _lock_holder(self, device_id: int) -> int:
        with self.store.read_session() as session:
            holder = session.scalar(select(m.DeviceLock.execution_id).where(m.DeviceLock.device_id == device_id))
        return int(holder) if holder is not None else -1

    def _release_locks(self) -> None:
        names = [self._locked_names.get(device_id, "") for device_id in sorted(self._locked)]

        def release(session: Any) -> None:
            now = m.utcnow()  # in the transaction that lets go: not before an earlier take
            events = [_event(self.execution_id, "device_released", name, now) for name in names]
            session.execute(delete(_LOCKS).where(_LOCKS.c.execution_id == self.execution_id))
            if events:
                session.execute(_ADD_EVENT, events)  # one executemany, not an ORM object per device

        self._write(release)
        self._locked.clear()

    # -- records ----------------------------------------------------------------------------

    def _start_row(self, step: m.WorkflowStep, device: _Device | None) -> _Rows:
        values = {
            "execution_id": self.execution_id,
            "workflow_step_id": step.id,
            "device_id": device.id if device else None,
            "order": step.order,
            "status": StepStatus.RUNNING,
            "started_at": m.utcnow(),
        }
        return _Rows(((_START_ROW, values),), returning=True)

    def _set_implementation(self, row_id: int, impl_id: int) -> None:
        self.journal.post(_Rows(((_SET_IMPLEMENTATION, {"p_id": row_id, "p_task_implementation_id": impl_id}),)))

    def _end_row(
        self,
        row_id: int,
        status: StepStatus,
        error: str,
        *,
        outputs: dict[str, Any] | None = None,
        logs: list[str] | None = None,
        rendered: str = "",
        inputs: dict[str, Any] | None = None,
    ) -> None:
        # Every column at once (what was not given is the column's default, which the row
        # still holds): one statement for every step's end, sent as one executemany.
        values: dict[str, Any] = {
            "p_id": row_id,
            "p_status": status,
            "p_completed_at": m.utcnow(),
            "p_error_message": error,
            "p_outputs": outputs if outputs is not None else {},
            "p_logs": "\n".join(logs) + "\n" if logs else "",
            "p_rendered_content": rendered,
            "p_inputs": inputs or {},
        }
        self.journal.post(
            _Rows(((_END_ROW, values),)),
            key=("logs", row_id),  # the final text replaces any live log update still queued
        )

    def _record_skipped(self, step: m.WorkflowStep, devices: list[_Device], why: str) -> None:
        per_device = bool(devices) and step.step_type in (StepType.TASK, StepType.VALIDATION, StepType.CONDITION)
        now = m.utcnow()

        def skip(session: Any) -> None:
            for device in devices if per_device else [None]:
                session.add(
                    m.ExecutionStep(
                        execution_id=self.execution_id,
                        workflow_step_id=step.id,
                        device_id=device.id if device else None,
                        order=step.order,
                        status=StepStatus.SKIPPED,
                        started_at=now,
                        completed_at=now,
                        error_message=why,
                    )
                )

        self._write(skip)

    def _pause_for_approval(self, step: m.WorkflowStep, devices: list[_Device]) -> None:
        def pause(session: Any) -> None:
            execution = session.get(m.Execution, self.execution_id)
            context = dict(execution.context)
            context["devices"] = _device_outputs(devices)
            context["paused_at"] = step.order
            if step.config.get("timeout"):
                deadline = m.utcnow() + timedelta(seconds=_duration(step.config["timeout"]))
                context["approval_deadline"] = deadline.isoformat()
            execution.context = context
            execution.status = ExecutionStatus.AWAITING_APPROVAL
            session.add(
                m.ExecutionStep(
                    execution_id=self.execution_id,
                    workflow_step_id=step.id,
                    order=step.order,
                    status=StepStatus.PENDING,
                    started_at=m.utcnow(),
                    logs=f"waiting for approval ({step.config.get('approvers_role', 'approver')})\n",
                )
            )
            record_event(session, self.execution_id, "paused", f"approval step '{step.name}'")

        self._write(pause)

    def _finish(self, status: ExecutionStatus, devices: list[_Device], shared: dict[str, Any]) -> None:
        def finish(session: Any) -> None:
            execution = session.get(m.Execution, self.execution_id)
            context = dict(execution.context)
            context["devices"] = _device_outputs(devices)
            # Which devices a change reached: what an operator checks after a cancel or a failure.
            changed = session.scalars(
                select(m.Device.name)
                .join(m.ExecutionStep, m.ExecutionStep.device_id == m.Device.id)
                .where(
                    m.ExecutionStep.execution_id == self.execution_id, m.ExecutionStep.status == StepStatus.COMPLETED
                )
                .where(m.ExecutionStep.task_implementation_id.is_not(None))
            ).all()
            context["changed_devices"] = sorted(set(changed)) if not context.get("dry_run") else []
            execution.context = context
            execution.status = status
            execution.completed_at = m.utcnow()
            record_event(session, self.execution_id, "finished", status.value)

        self._write(finish)


def execution_meta(execution_id: int, requested_by: str, dry_run: bool) -> dict[str, Any]:
    """``meta`` in a device's render context."""
    return {"execution": execution_id, "requested_by": requested_by, "dry_run": dry_run}


def device_context(
    inventory: dict[str, Any], inputs: dict[str, Any], meta: dict[str, Any], saved: dict[str, Any]
) -> dict[str, Any]:
    """A device's render context: its inventory (catalog.context.inventory_contexts), the
    execution's inputs and meta, and what earlier steps saved for it (``saved``)."""
    return {**inventory, "inputs": inputs, "facts": {}, "meta": meta, **saved}


def undo_record(step_name: str, row_id: int, outputs: dict[str, Any]) -> dict[str, Any] | None:
    """The pending undo record a step's outputs register, if any: a hook's result may carry
    ``undo``: {``hook`` (a registered hook), ``kwargs`` (JSON), ``label`` (what it undoes, e.g.
    "Nautobot change")}."""
    result = outputs.get("result")
    undo = result.get("undo") if isinstance(result, dict) else None
    if not isinstance(undo, dict) or not isinstance(undo.get("hook"), str):
        return None
    return {
        "step": step_name,
        "row": row_id,
        "hook": undo["hook"],
        "kwargs": dict(undo.get("kwargs") or {}),
        "label": str(undo.get("label") or f"the change of step '{step_name}'"),
        "status": "pending",
    }


def _remember_undo(device: _Device, step: m.WorkflowStep, row_id: int, outputs: dict[str, Any]) -> None:
    """A step's undo record is kept in the device's context (``_undo``, so it survives an
    approval pause) until the device's work stops early."""
    record = undo_record(step.name, row_id, outputs)
    if record is not None:
        device.context.setdefault("_undo", []).append(record)


async def run_undo(
    store: Store,
    execution_id: int,
    device_name: str,
    context: dict[str, Any],
    why: str,
    on_event: Callable[[str], None] | None = None,
) -> None:
    """Run the pending undo records in ``context["_undo"]`` (newest first) and record each
    outcome plainly: "<label> reverted", or "<label> NOT reverted: <reason>". An undo hook
    returns {``undone``: bool, ``detail``: text}; raising means not undone either. Used by the
    runner, and for executions that ended without it (nettui.engine.undo)."""
    from drivers.hooks import run_hook

    say = on_event or (lambda _text: None)
    token = CURRENT_STORE.set(store)  # the undo hook reads the execution's store
    try:
        pending = [r for r in context.get("_undo", []) if r.get("status") == "pending"]
        for record in reversed(pending):
            undone, detail = False, ""
            try:
                answer = await run_hook(record["hook"], context, **record["kwargs"])
                undone = bool(answer.get("undone")) if isinstance(answer, dict) else bool(answer)
                detail = str(answer.get("detail", "")) if isinstance(answer, dict) else ""
            except NettuiError as exc:
                detail = exc.what
            text = await asyncio.to_thread(record_undo, store, execution_id, device_name, record, why, undone, detail)
            say(f"{device_name}: {text}")
    finally:
        CURRENT_STORE.reset(token)


def record_undo(
    store: Store, execution_id: int, device_name: str, record: dict[str, Any], why: str, undone: bool, detail: str
) -> str:
    """Record an undo's outcome plainly, "<label> reverted (why)[: detail]" or "<label> NOT
    reverted (why): detail", where it shows: the record (status, detail), the registering step's
    error column, logs and outputs (``undo``), and the execution's audit trail. Its text."""
    label = record["label"]
    text = f"{label} reverted ({why})" if undone else f"{label} NOT reverted ({why}): {detail}"
    if undone and detail:
        text += f": {detail}"
    record.update(status="reverted" if undone else "not reverted", detail=text)
    with store.session() as session:
        row = session.get(m.ExecutionStep, int(record["row"]))
        if row is not None:
            row.outputs = {**(row.outputs or {}), "undo": {"status": record["status"], "detail": text}}
            row.logs = (row.logs or "") + text + "\n"
            row.error_message = text
        record_event(session, execution_id, "undone" if undone else "undo_failed", f"{device_name}: {text}")
    return text


def _failed_devices(step: m.WorkflowStep, devices: list[_Device], results: list[_StepResult]) -> list[_Device]:
    """The devices a step failed on (all of them for a step that does not run per device)."""
    if len(results) == len(devices) and step.step_type in (StepType.TASK, StepType.VALIDATION, StepType.CONDITION):
        return [d for d, r in zip(devices, results, strict=True) if not r.ok]
    return list(devices) if any(not r.ok for r in results) else []


_INVENTORY_KEYS = {"device", "interfaces", "vlans", "vrfs", "prefixes", "ip_addresses", "inputs", "facts", "meta"}


def _device_outputs(devices: list[_Device]) -> dict[str, dict[str, Any]]:
    """What steps added to each device's context (output_mapping), to keep with the execution."""
    return {d.name: {k: v for k, v in d.context.items() if k not in _INVENTORY_KEYS} for d in devices}


async def run_execution(store: Store, execution_id: int, **options: Any) -> ExecutionStatus:
    """Run a pending execution to its end (or to an approval step); its final status."""
    return await Runner(store, execution_id, **options).run()
