"""Schedules: workflows that run by themselves, fired by APScheduler inside `nettui engine`.

Operators manage Schedule rows (`nettui schedules ...`); the engine's scheduler mirrors them
as APScheduler jobs kept in the same SQL store (APScheduler's SQLAlchemyJobStore), so trigger
state survives restarts. A run missed while the engine was down fires once on start when it
is within the grace period (coalesced), and is dropped with a log line otherwise.
Jobs hold only the schedule's id: no URL, no secret ever goes into the job store.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from catalog import models as m
from catalog.errors import NettuiError, NotFoundError
from catalog.models.choices import ScheduleTrigger, UserRole
from catalog.store import Store
from nettui.engine.runner import record_event, submit

log = logging.getLogger(__name__)
JOB_PREFIX = "schedule-"
DEFAULT_GRACE_S = 3600
# The store fire() submits to: set by the Scheduler of this process (jobs carry no URL).
_ACTIVE_STORE: list[Store] = []


class ScheduleError(NettuiError):
    """A schedule that cannot be created or fired as asked."""


def parse_interval(text: str) -> timedelta:
    found = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", text)
    if not found or int(found.group(1)) == 0:
        raise ScheduleError(f"bad interval {text!r}", hint="write 30s, 15m, 2h or 1d")
    return timedelta(seconds=int(found.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[found.group(2)])


def make_trigger(trigger: ScheduleTrigger, expression: str) -> Any:
    """The APScheduler trigger for a schedule (times in UTC)."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.date import DateTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if trigger == ScheduleTrigger.INTERVAL:
        return IntervalTrigger(seconds=int(parse_interval(expression).total_seconds()), timezone=UTC)
    if trigger == ScheduleTrigger.CRON:
        try:
            return CronTrigger.from_crontab(expression, timezone=UTC)
        except ValueError as exc:
            raise ScheduleError(f"bad cron line {expression!r}: {exc}", hint='e.g. "0 2 * * *"') from None
    try:
        when = datetime.fromisoformat(expression)
    except ValueError:
        raise ScheduleError(f"bad time {expression!r}", hint="ISO 8601, e.g. 2026-12-01T02:00:00+00:00") from None
    return DateTrigger(run_date=when if when.tzinfo else when.replace(tzinfo=UTC), timezone=UTC)


def add_schedule(
    store: Store,
    name: str,
    workflow_slug: str,
    trigger: ScheduleTrigger,
    expression: str,
    *,
    devices: list[str],
    inputs: dict[str, Any],
    requested_by: str,
) -> int:
    make_trigger(trigger, expression)  # refuse a bad expression now, not when the engine loads it
    with store.session() as session:
        workflow = session.scalars(select(m.Workflow).where(m.Workflow.slug == workflow_slug)).one_or_none()
        if workflow is None:
            raise NotFoundError(f"no workflow '{workflow_slug}'")
        if not workflow.schedule_allowed:
            raise ScheduleError(f"workflow '{workflow_slug}' does not allow schedules (schedule_allowed: false)")
        user = session.scalars(select(m.User).where(m.User.username == requested_by)).one_or_none()
        if user is None or user.role == UserRole.VIEWER:
            raise ScheduleError(f"'{requested_by}' is not an operator: only operators and above schedule workflows")
        if session.scalars(select(m.Schedule.id).where(m.Schedule.name == name)).first() is not None:
            raise ScheduleError(f"a schedule named '{name}' exists", hint=f"nettui schedules remove {name}")
        schedule = m.Schedule(
            name=name,
            workflow=workflow,
            trigger=trigger,
            expression=expression,
            devices=list(devices),
            inputs=dict(inputs),
            requested_by=user,
        )
        session.add(schedule)
        session.flush()
        return int(schedule.id)


def set_enabled(store: Store, name: str, enabled: bool) -> None:
    with store.session() as session:
        schedule = _get(session, name)
        schedule.enabled = enabled


def remove_schedule(store: Store, name: str) -> None:
    with store.session() as session:
        session.delete(_get(session, name))


def _get(session: Any, name: str) -> m.Schedule:
    schedule = session.scalars(select(m.Schedule).where(m.Schedule.name == name)).one_or_none()
    if schedule is None:
        raise NotFoundError(f"no schedule '{name}'", hint="`nettui schedules list`")
    return schedule  # type: ignore[no-any-return]


def fire(schedule_id: int) -> int | None:
    """Submit the schedule's workflow as a new execution (the engine then runs it); its id."""
    if not _ACTIVE_STORE:
        raise ScheduleError("no store: schedules fire inside `nettui engine`")
    store = _ACTIVE_STORE[0]
    with store.session() as session:
        schedule = session.get(m.Schedule, schedule_id)
        if schedule is None or not schedule.enabled:
            return None
        slug, devices, inputs = schedule.workflow.slug, list(schedule.devices), dict(schedule.inputs)
        user, name = schedule.requested_by.username, schedule.name
        schedule.last_fired_at = m.utcnow()
    try:
        execution_id = submit(store, slug, devices, inputs, requested_by=user)
    except NettuiError as exc:
        log.error("schedule %s could not submit %s: %s", name, slug, exc.render())
        return None
    with store.session() as session:
        record_event(session, execution_id, "scheduled", f"fired by schedule '{name}'")
    return execution_id


def _fingerprint(schedule: m.Schedule) -> str:
    return f"{schedule.trigger.value}|{schedule.expression}"


class Scheduler:
    """APScheduler with its job store in the nettui store, mirroring the Schedule rows."""

    def __init__(self, store: Store, *, grace_s: int = DEFAULT_GRACE_S) -> None:
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self.store = store
        self.grace_s = grace_s
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=store.engine)},
            job_defaults={"coalesce": True, "misfire_grace_time": grace_s, "max_instances": 1},
            timezone=UTC,
        )

    def start(self) -> None:
        _ACTIVE_STORE[:] = [self.store]
        self.scheduler.start()
        self.sync()

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)

    def sync(self) -> None:
        """Add, change, pause or remove jobs so that they match the Schedule rows. A job whose
        trigger is unchanged is left alone, so its next run time (and any missed run) stays."""
        with self.store.read_session() as session:
            schedules = {JOB_PREFIX + str(s.id): s for s in session.scalars(select(m.Schedule))}
            wanted = {
                job_id: (s.id, _fingerprint(s), s.enabled, s.trigger, s.expression) for job_id, s in schedules.items()
            }
        jobs = {job.id: job for job in self.scheduler.get_jobs()}
        for job_id, job in jobs.items():
            if job_id.startswith(JOB_PREFIX) and job_id not in wanted:
                job.remove()
        for job_id, (schedule_id, fingerprint, enabled, trigger, expression) in wanted.items():
            job = jobs.get(job_id)
            if job is None or job.name != fingerprint:
                self.scheduler.add_job(
                    fire,
                    make_trigger(trigger, expression),
                    args=[schedule_id],
                    id=job_id,
                    name=fingerprint,
                    replace_existing=True,
                )
                job = self.scheduler.get_job(job_id)
            if job is None:
                continue  # a date trigger that has passed: nothing more to run
            if enabled and job.next_run_time is None:
                job.resume()
            elif not enabled and job.next_run_time is not None:
                job.pause()
