"""The shell around every top-level screen: a clickable bar of areas with the status (user,
engine, store), and a read-only banner when it applies. The app mounts them at the top of
each top-level screen, below its header."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from nettui.tui.screens import AREAS

if TYPE_CHECKING:
    from nettui.tui.app import NettuiApp


# Short names for a narrow terminal, so that the status still fits beside the areas.
SHORT_TITLES = {
    "executions": "Runs",
    "approvals": "Approve",
    "catalog": "Catalog",
    "inventory": "Devices",
    "schedules": "Sched",
    "backups": "Backup",
    "compliance": "Comply",
    "upgrades": "Upgrade",
    "discovery": "Discover",
    "sessions": "Sess",
}
# Shorter still, for the standard 120 columns with every area in the bar.
TINY_TITLES = {
    **SHORT_TITLES,
    "portal": "Port",
    "approvals": "Appr",
    "catalog": "Cat",
    "inventory": "Dev",
    "backups": "Bkp",
    "compliance": "Comp",
    "upgrades": "Upgr",
    "discovery": "Disc",
}


class NavItem(Static):
    """One area in the navigation bar; a click opens it."""

    def __init__(
        self, name: str, label: Text, *, placeholder: bool, short: Text | None = None, tiny: Text | None = None
    ) -> None:
        super().__init__(label, id=f"nav-{name}", classes="nav-item -placeholder" if placeholder else "nav-item")
        self.area = name
        self.full_label = label
        self.short_label = short or label
        self.tiny_label = tiny or self.short_label

    def on_click(self, event: events.Click) -> None:
        event.stop()
        app: NettuiApp = self.app  # type: ignore[assignment]
        app.go(self.area)


class NavBar(Horizontal):
    """The areas with their keys, the current one highlighted, and on the right who is using
    nettui, whether the embedded engine runs, and the store (never its password)."""

    DEFAULT_CSS = """
    NavBar {
        height: 1;
        background: $panel;
        & > .nav-item { width: auto; padding: 0 1; color: $text-muted; }
        & > .nav-item:hover { background: $boost; color: $text; }
        & > .nav-item.-active { background: $primary 40%; color: $text; text-style: bold; }
        &.-compact > .nav-item { padding: 0 1 0 0; }
        & > #nav-spacer { width: 1fr; min-width: 2; }
        & > StatusLine { width: auto; padding: 0 1; color: $text-muted; }
    }
    """

    def __init__(self, active: str) -> None:
        super().__init__(id="nav")
        self.active = active

    def compose(self) -> ComposeResult:
        for area in AREAS:
            if area.placeholder:
                continue  # areas of later issues: in the palette, not in the bar
            key = (f"{area.key} ", "dim") if area.key else ""
            item = NavItem(
                area.name,
                Text.assemble(key, area.title),
                placeholder=False,
                short=Text.assemble(key, SHORT_TITLES.get(area.name, area.title)),
                tiny=Text.assemble(key, TINY_TITLES.get(area.name, area.title)),
            )
            keys = [f"key {area.key}"] if area.key else []
            keys += [f"g {area.chord}"] if area.chord else []
            item.tooltip = f"{area.help} ({', '.join(keys)})" if keys else area.help
            if area.name == self.active:
                item.add_class("-active")
            yield item
        yield Static(id="nav-spacer")
        yield StatusLine()

    def on_resize(self) -> None:
        self.fit()

    def fit(self) -> None:
        """Full area names when they fit beside the status, short ones when they do not, and
        shorter ones still when even those do not."""
        items = list(self.query(NavItem))
        status = self.query(StatusLine)
        status_width = (len(str(status.first().content)) + 2) if status else 0
        full = sum(len(item.full_label) + 2 for item in items) + status_width + 2
        compact = full > self.size.width
        short = sum(len(item.short_label) + 1 for item in items) + status_width + 2
        tiny = compact and short > self.size.width
        self.set_class(compact, "-compact")
        for item in items:
            item.update(item.tiny_label if tiny else item.short_label if compact else item.full_label)


class StatusLine(Static):
    """Who is using nettui with which role, the embedded engine, the store."""

    def __init__(self) -> None:
        super().__init__(id="status-line", markup=False)

    def on_mount(self) -> None:
        app: NettuiApp = self.app  # type: ignore[assignment]
        app.status_signal.subscribe(self, lambda _app: self.show())
        self.show()

    def show(self) -> None:
        app: NettuiApp = self.app  # type: ignore[assignment]
        self.update(app.status_text())
        if isinstance(self.parent, NavBar):
            self.parent.fit()


class ReadOnlyBanner(Static):
    """Says so, on every screen, when the user cannot change anything."""

    DEFAULT_CSS = """
    ReadOnlyBanner {
        display: none;
        height: auto;
        padding: 0 1;
        background: $warning 40%;
        color: $text;
        &.-shown { display: block; }
    }
    """

    def __init__(self) -> None:
        super().__init__(id="read-only-banner", markup=False)

    def on_mount(self) -> None:
        app: NettuiApp = self.app  # type: ignore[assignment]
        app.status_signal.subscribe(self, lambda _app: self.show())
        self.show()

    def show(self) -> None:
        app: NettuiApp = self.app  # type: ignore[assignment]
        text = app.read_only_text()
        self.update(text)
        self.set_class(bool(text), "-shown")
