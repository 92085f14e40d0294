"""`nettui render`: preview what a task would send to a device, without touching it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml

from catalog.context import render_for_device
from catalog.errors import NettuiError
from catalog.yamlfile import load_yaml
from nettui.cli import AppContext, pass_app
from nettui.cli.output import emit_json, progress


def _set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise NettuiError(f"--set {dotted}: '{part}' is already a value, not a mapping")
        node = child
    node[parts[-1]] = value


def parse_assignments(assignments: tuple[str, ...]) -> dict[str, Any]:
    """``port.untagged_vlan=20`` -> {"port": {"untagged_vlan": 20}}; values are YAML scalars."""
    data: dict[str, Any] = {}
    for item in assignments:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise NettuiError(f"--set {item!r}: write KEY=VALUE, e.g. port.untagged_vlan=20")
        _set_path(data, key.strip(), yaml.safe_load(raw) if raw else "")
    return data


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@click.command(name="render")
@click.argument("task")
@click.option("--device", "device_name", required=True, help="Render for this device.")
@click.option("--intended", "intended_file", type=click.Path(exists=True, path_type=Path), help="YAML intent payload.")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Set an intended value (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON with the implementation and the content.")
@pass_app
def group(
    app: AppContext,
    task: str,
    device_name: str,
    intended_file: Path | None,
    assignments: tuple[str, ...],
    as_json: bool,
) -> None:
    """Preview what a task would send to a device, without touching it.

    Picks TASK's implementation for the device, validates the intended inputs against the
    task's input schema, and prints the rendered configuration. Never connects to the device.
    """
    intended: dict[str, Any] = {}
    if intended_file is not None:
        loaded = load_yaml(intended_file)
        if not isinstance(loaded, dict):
            raise NettuiError("the intended file must be a mapping", where=str(intended_file))
        intended = dict(loaded)
    intended = _merge(intended, parse_assignments(assignments))
    with app.store().read_session() as session:
        result = render_for_device(session, task, device_name, intended, meta={"preview": True})
        slug = result.implementation.slug
    if as_json:
        emit_json({"task": task, "device": device_name, "implementation": slug, "content": result.content})
    else:
        progress(f"# {task} on {device_name} via {slug} (preview, nothing sent)")
        click.echo(result.content, nl=not result.content.endswith("\n"))
