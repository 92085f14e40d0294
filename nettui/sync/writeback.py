"""Update Nautobot first, then render: the hooks that write intended data to Nautobot and undo it.

``nettui_nautobot_update`` (a python hook, registered under ``nettui.hooks``) applies the
changes in ``intended.nautobot.changes`` through pynautobot (:class:`NautobotProvider`), each
one being::

    object: dcim.interfaces            # app.endpoint (plugins/<name>.<endpoint> for an app)
    id: 5f0c...                        # the object's UUID, or
    lookup: {device: sw1, name: Gi1/0/5}   # filters that find exactly one object
    fields: {mode: access, untagged_vlan: 9a1e...}   # what to PATCH onto it

The Nautobot server is the provider config that provider selection picks for the device and
the implementation running the hook (the implementation names ``provider: nautobot``), exactly
as for ``graphql_query`` steps; its token comes from the config's secrets group and never
reaches the step's outputs or logs.

The hook returns, per change, each field's value before and after (related objects by id), and
an ``undo`` record that the engine keeps with the device: when a later step fails for that
device (or the execution stops before the device's remaining steps ran), the engine calls
``nettui_nautobot_revert``, which PATCHes the previous values back, newest change first, and
the execution records "Nautobot change reverted" or "Nautobot change NOT reverted: <reason>".
A field that someone changed in Nautobot since nettui wrote it is not overwritten: the revert
leaves that object as it is and says so. When one of several changes fails, the hook itself
puts back the ones it already made before it fails.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from catalog import models as m
from catalog.errors import NettuiError
from drivers.nautobot_provider import NautobotError, NautobotProvider, _writable

UPDATE_HOOK = "nettui_nautobot_update"
REVERT_HOOK = "nettui_nautobot_revert"
LABEL = "Nautobot change"
MAX_CHANGES = 100
NAUTOBOT_DRIVER = "drivers.nautobot_provider.NautobotProvider"
_OBJECT = re.compile(r"(?P<app>[a-z][a-z0-9_-]*(?:/[a-z][a-z0-9_-]*)?)\.(?P<endpoint>[a-z][a-z0-9_-]*)")
_EXAMPLE = "e.g. {object: dcim.interfaces, lookup: {device: sw1, name: Gi1/0/5}, fields: {mode: access}}"


class WritebackError(NettuiError):
    """A Nautobot write-back cannot run as asked, or Nautobot refused it."""


@dataclass(frozen=True)
class Change:
    """One object to change: ``app``/``endpoint``, found by ``id`` or ``lookup``; ``fields`` to PATCH."""

    object: str
    app: str
    endpoint: str
    id: str | None
    lookup: dict[str, Any]
    fields: dict[str, Any]

    def label(self, found_id: str | None = None) -> str:
        if found_id or self.id:
            return f"{self.object} {found_id or self.id}"
        return f"{self.object} " + ", ".join(f"{k}={v}" for k, v in self.lookup.items())


def parse_changes(spec: Any, where: str = "intended.nautobot") -> list[Change]:
    """``intended.nautobot`` ({``changes``: [...]}) as checked :class:`Change` objects."""
    if not isinstance(spec, Mapping) or not isinstance(spec.get("changes"), list) or not spec["changes"]:
        raise WritebackError("no changes given", where=where, hint=f"changes: [{_EXAMPLE}]")
    raw = spec["changes"]
    if len(raw) > MAX_CHANGES:
        raise WritebackError(f"{len(raw)} changes; at most {MAX_CHANGES} in one step", where=where)
    changes = []
    for index, item in enumerate(raw):
        here = f"{where}.changes[{index}]"
        if not isinstance(item, Mapping):
            raise WritebackError("a change must be a mapping", where=here, hint=_EXAMPLE)
        name = item.get("object")
        found = _OBJECT.fullmatch(name) if isinstance(name, str) else None
        if found is None:
            raise WritebackError(
                f"object must be app.endpoint, not {str(name)[:100]!r}", where=here, hint="e.g. dcim.interfaces"
            )
        object_id, lookup, fields = item.get("id"), item.get("lookup"), item.get("fields")
        if (object_id is None) == (lookup is None):
            raise WritebackError("give exactly one of id and lookup", where=here, hint=_EXAMPLE)
        if object_id is not None and (not isinstance(object_id, str) or not object_id):
            raise WritebackError("id must be the object's id (a UUID)", where=here)
        if lookup is not None and (not isinstance(lookup, Mapping) or not lookup):
            raise WritebackError("lookup must map filter names to values", where=here, hint=_EXAMPLE)
        if not isinstance(fields, Mapping) or not fields:
            raise WritebackError("fields must map field names to their new values", where=here, hint=_EXAMPLE)
        changes.append(
            Change(
                object=found.group(0),
                app=found["app"],
                endpoint=found["endpoint"],
                id=object_id,
                lookup={str(k): v for k, v in (lookup or {}).items()},
                fields={str(k): v for k, v in fields.items()},
            )
        )
    return changes


def _provider(context: Mapping[str, Any], implementation: str | None, hook: str) -> tuple[NautobotProvider, str]:
    """The Nautobot provider that provider selection picks for the device and implementation, and
    its config's name (secrets resolved now). Blocking: reads the execution's store."""
    from drivers.selection import select_provider
    from nettui.sync.hooks import _store

    where = f"python hook {hook}"
    device_name = (context.get("device") or {}).get("name")
    if not isinstance(device_name, str) or not implementation:
        raise WritebackError(
            "runs as a task implementation in a workflow (it needs the device and the implementation)",
            where=where,
        )
    with _store().session() as session:
        device = session.scalars(select(m.Device).where(m.Device.name == device_name)).one_or_none()
        impl = session.scalars(
            select(m.TaskImplementation).where(m.TaskImplementation.slug == implementation)
        ).one_or_none()
        if device is None or impl is None:
            missing = f"device '{device_name}'" if device is None else f"implementation '{implementation}'"
            raise WritebackError(f"no {missing} in the store", where=where)
        chosen = select_provider(session, device, impl)
        hint = (
            "name `provider: nautobot` on the implementation and add a provider config for it with "
            "settings.url and a secrets group holding token"
        )
        if chosen.provider.driver_class.replace(":", ".") != NAUTOBOT_DRIVER:
            raise WritebackError(
                f"implementation '{implementation}' does not use the Nautobot provider ({chosen.reason})",
                where=where,
                hint=hint,
            )
        if chosen.config is None:
            raise WritebackError(
                f"no Nautobot provider config for {device_name} ({chosen.reason})", where=where, hint=hint
            )
        return NautobotProvider.from_config(chosen.config), chosen.config.name


async def _read(nb: NautobotProvider, app: str, endpoint: str, object_id: str) -> dict[str, Any]:
    """One object with its many-to-many fields (``tagged_vlans``, ``tags``): Nautobot 3 leaves
    them out of REST answers unless asked (``exclude_m2m=false``), and a revert needs them.
    Related objects come with their ``display`` (depth 1), for messages."""
    found = await nb.get(app, endpoint, id=object_id, exclude_m2m="false", depth=1)
    if len(found) != 1:
        raise WritebackError(f"{app}.{endpoint} {object_id} is gone from Nautobot", where=nb.url)
    return found[0]


def _same(left: Any, right: Any) -> bool:
    """Field values equal as Nautobot means them (a list of related ids in any order)."""
    if isinstance(left, list) and isinstance(right, list):
        return sorted(map(str, left)) == sorted(map(str, right))
    return bool(left == right)


def _show(value: Any) -> str:
    """A field's value for people: related objects by their display name, not their id."""
    if isinstance(value, list):
        text = "[" + ", ".join(_show(item) for item in value) + "]"
    elif isinstance(value, Mapping) and value.get("display"):
        text = str(value["display"])
    else:
        text = repr(_writable(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _log(line: str) -> None:
    """A line in the running step's log, as it happens (the engine's CURRENT_STEP_LOG)."""
    from nettui.engine import runner

    logs = getattr(runner, "CURRENT_STEP_LOG", None)
    current = logs.get() if logs is not None else None
    if current is not None:
        current.append(line)


async def _put_back(nb: NautobotProvider, changes: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """PATCH each change's previous values back, newest first, unless someone changed one of its
    fields since; (what was put back, what was not and why)."""
    done: list[str] = []
    refused: list[str] = []
    for change in reversed(changes):
        label = f"{change['object']} {change.get('display') or change['id']}"
        app, _, endpoint = str(change["object"]).rpartition(".")
        failure: str | None = None
        try:
            current = await _read(nb, app, endpoint, str(change["id"]))
            drifted = [
                f"{name} (now {_show(current.get(name))}, nettui set {(change.get('shown') or {}).get(name, value)})"
                for name, value in (change.get("expect") or {}).items()
                if not _same(_writable(current.get(name)), value)
            ]
            if drifted:
                failure = f"{label}: changed in Nautobot since nettui wrote it: {', '.join(drifted)}; left as it is"
            else:
                await nb.update(app, endpoint, str(change["id"]), change["revert"])
        except (NautobotError, WritebackError) as exc:
            failure = f"{label}: {exc.what}"
        if failure is None:
            done.append(label)
            _log(f"put back {label}: {', '.join(sorted(change['revert']))}")
        else:
            refused.append(failure)
            _log(f"NOT put back {failure}")
    return done, refused


def _record(change: Change, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What one change did: each field before and after (related objects by id), the body that
    puts it back, and the values the revert expects to find."""
    fields = {
        name: {"before": _writable(before.get(name)), "after": _writable(after.get(name))} for name in change.fields
    }
    return {
        "object": change.object,
        "id": str(before["id"]),
        "display": str(after.get("display") or before.get("display") or ""),
        "fields": fields,
        "revert": {name: value["before"] for name, value in fields.items()},
        "expect": {name: value["after"] for name, value in fields.items()},
        "shown": {name: _show(after.get(name)) for name in change.fields},  # the values set, for messages
    }


async def nautobot_update(context: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    """Apply ``intended.nautobot.changes``; returns each change (fields before and after) and the
    ``undo`` record for the engine. A failed change puts back the ones before it, then fails."""
    changes = parse_changes((context.get("intended") or {}).get("nautobot"))
    implementation = (context.get("meta") or {}).get("implementation")
    nb, config_name = await asyncio.to_thread(_provider, context, implementation, UPDATE_HOOK)
    applied: list[dict[str, Any]] = []
    async with nb:
        for index, change in enumerate(changes):
            failure: NautobotError | WritebackError | None = None
            before: dict[str, Any] | None = None
            patched = False
            try:
                object_id = change.id or str((await nb.get_one(change.app, change.endpoint, **change.lookup))["id"])
                before = await _read(nb, change.app, change.endpoint, object_id)
                unknown = sorted(set(change.fields) - set(before))
                if unknown:
                    raise WritebackError(
                        f"{change.object} has no field {', '.join(map(repr, unknown))}",
                        where=nb.url,
                        hint="use the field names of Nautobot's REST API (see /api/docs/)",
                    )
                await nb.update(change.app, change.endpoint, object_id, change.fields)
                patched = True
                after = await _read(nb, change.app, change.endpoint, object_id)
            except (NautobotError, WritebackError) as exc:
                failure = exc
            if failure is not None:
                if patched and before is not None:  # written, but not read back: put it back too
                    applied.append(_record(change, before, {**before, **change.fields}))
                what = f"change {index + 1} ({change.label()}) failed: {failure.what}"
                if applied:
                    put_back, refused = await _put_back(nb, applied)
                    what += f"; the {len(applied)} change(s) made: "
                    what += f"put back {', '.join(put_back)}" if put_back else "none put back"
                    if refused:
                        what += f"; NOT put back: {'; '.join(refused)}"
                raise WritebackError(what, where=f"{nb.url} via provider config {config_name}", hint=failure.hint)
            assert before is not None
            record = _record(change, before, after)
            fields = record["fields"]
            applied.append(record)
            shown = ", ".join(f"{n} {_show(before.get(n))} -> {record['shown'][n]}" for n in fields)
            _log(f"updated {change.object} {record['display'] or record['id']}: {shown}")
    return {
        "server": nb.url,
        "provider_config": config_name,
        "changes": [{k: v for k, v in c.items() if k not in ("revert", "expect", "shown")} for c in applied],
        "undo": {
            "hook": REVERT_HOOK,
            "label": LABEL,
            "kwargs": {"implementation": implementation, "changes": applied},
        },
    }


async def nautobot_revert(
    context: dict[str, Any], *, implementation: str | None = None, changes: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Undo what ``nettui_nautobot_update`` did (its ``undo.kwargs``): ``undone`` is true only if
    every change was put back; ``detail`` says what was and was not, and why."""
    if not isinstance(changes, list) or not changes:
        return {"undone": False, "detail": "nothing to put back: the undo record has no changes"}
    failure: str | None = None
    try:
        nb, _config_name = await asyncio.to_thread(_provider, context, implementation, REVERT_HOOK)
    except NettuiError as exc:
        failure = exc.what
    if failure is not None:
        return {"undone": False, "detail": failure}
    async with nb:
        done, refused = await _put_back(nb, changes)
    if refused:
        detail = "; ".join(refused)
        if done:
            detail += f" (put back: {', '.join(done)})"
        return {"undone": False, "detail": detail}
    return {"undone": True, "detail": f"put back {', '.join(done)}"}


__all__ = [
    "LABEL",
    "REVERT_HOOK",
    "UPDATE_HOOK",
    "Change",
    "WritebackError",
    "nautobot_revert",
    "nautobot_update",
    "parse_changes",
]
