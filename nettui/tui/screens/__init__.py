"""The screens of the terminal UI, one module per area an operator works in.

The app finds its top-level screens here by name and imports each module only when the
operator first opens it. A screen class takes the store as its only required argument and
reads ``self.app.user`` / ``self.app.store`` when it needs them. A screen may offer commands
to the command palette through ``commands()`` (see ``ScreenCommand``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from textual.screen import Screen

SCREENS = {
    "home": "nettui.tui.screens.home:HomeScreen",
    "portal": "nettui.tui.screens.portal:PortalScreen",
    "executions": "nettui.tui.screens.executions:ExecutionsScreen",
    "approvals": "nettui.tui.screens.approvals:ApprovalsScreen",
    "catalog": "nettui.tui.screens.catalog:CatalogScreen",
    "inventory": "nettui.tui.screens.devices:DevicesScreen",
    "schedules": "nettui.tui.screens.schedules:SchedulesScreen",
    "backups": "nettui.tui.screens.backups:BackupsScreen",
    "compliance": "nettui.tui.screens.compliance:ComplianceScreen",
    "upgrades": "nettui.tui.screens.upgrades:UpgradesScreen",
    "discovery": "nettui.tui.screens.discovery:DiscoveryScreen",
    "sessions": "nettui.tui.screens.sessions:SessionsScreen",
}


class ScreenCommand(NamedTuple):
    """A command a screen offers to the palette: what it is called, what it does, and the
    callback that does it. A screen lists them in ``commands()``."""

    title: str
    help: str
    callback: Callable[[], object]


@dataclass(frozen=True)
class Area:
    """One entry of the navigation: a screen (or a placeholder for one a later issue adds).
    ``key`` opens it at once (areas without a digit have none); ``chord`` is the letter
    after ``g`` that opens it."""

    name: str
    title: str
    key: str
    help: str
    chord: str = ""
    placeholder: bool = False


AREAS = [
    Area("home", "Home", "1", "What runs now, what waits for approval, what failed", chord="h"),
    Area("portal", "Portal", "2", "Request forms: ask for a change", chord="p"),
    Area("executions", "Executions", "3", "Every run, its steps per device, logs and audit trail", chord="e"),
    Area("approvals", "Approvals", "4", "Changes waiting for an approver", chord="a"),
    Area("catalog", "Catalog", "5", "Tasks, implementations, workflows, forms and checks", chord="c"),
    Area("inventory", "Inventory", "6", "Devices, their interfaces, VLANs and facts", chord="i"),
    Area("schedules", "Schedules", "7", "Workflows that run by themselves; pause and resume", chord="s"),
    Area("backups", "Backups", "8", "Configuration backups: history, diffs, restore", chord="b"),
    Area("compliance", "Compliance", "9", "Policy checks by device, scores, remediation", chord="m"),
    Area("upgrades", "Upgrades", "", "OS upgrades: plans, progress per device, pre/post checks", chord="u"),
    Area("discovery", "Discovery", "", "Find devices on the network and record them", chord="d"),
    Area("sessions", "Sessions", "0", "Bastion sessions: who reached which device; play recordings back", chord="x"),
]
AREAS_BY_NAME = {area.name: area for area in AREAS}


class MissingScreen(Exception):
    """The module for a registered screen does not exist yet."""


def screen_class(name: str) -> type[Screen[object]]:
    """The screen class registered under ``name``, imported now. MissingScreen when its
    module does not exist (yet); an error inside an existing module propagates."""
    target = SCREENS.get(name)
    if target is None:
        raise MissingScreen(name)
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise MissingScreen(name) from None
        raise
    found: type[Screen[object]] | None = getattr(module, class_name, None)
    if found is None:
        raise MissingScreen(name)
    return found
