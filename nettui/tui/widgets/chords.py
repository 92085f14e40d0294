"""``g`` then a letter: jump to an area, as in k9s and lazygit.

After ``g`` a small box lists the letters; the next key picks an area, ``esc`` (or any other
key, or a short wait) cancels. The letters come from the areas (``Area.chord``). ``g`` is an
app binding that is not a priority one, so typed into an Input it stays a character.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Static

from nettui.tui.screens import AREAS

CHORD_TIMEOUT_S = 2.0
"""How long the box waits for the second key before it goes away."""

CHORDS = {area.chord: area for area in AREAS if area.chord}


def chord_help() -> str:
    """``g h Home, g p Portal, …``: the chords in one line, for tooltips and key help."""
    return ", ".join(f"g {letter} {area.title}" for letter, area in CHORDS.items())


class ChordScreen(ModalScreen[str | None]):
    """Waits for the letter after ``g``; dismisses with the area's name, or None."""

    DEFAULT_CSS = """
    ChordScreen {
        align: right bottom;
        background: $background 0%;
        & > Vertical {
            width: 30;
            height: auto;
            margin: 0 1 1 0;
            padding: 0 1;
            background: $panel;
            border: round $primary;
            border-title-style: bold;
        }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *[
            Binding(
                letter,
                f"pick('{area.name}')",
                area.title,
                id=f"chord.{area.name}",
                tooltip=f"Open {area.title}: {area.help}.",
            )
            for letter, area in CHORDS.items()
        ],
        Binding("escape", "pick('')", "Cancel", id="chord.cancel", tooltip="Stay where you are."),
    ]

    timeout_s: ClassVar[float] = CHORD_TIMEOUT_S

    def __init__(self) -> None:
        super().__init__()
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        lines = Text()
        for index, (letter, area) in enumerate(CHORDS.items()):
            if index:
                lines.append("\n")
            lines.append(f" {letter} ", style="bold reverse")
            lines.append(f" {area.title}")
        lines.append("\n")
        lines.append(" esc ", style="bold reverse")
        lines.append(" stay here", style="dim")
        with Vertical() as box:
            box.border_title = "g: go to…"
            yield Static(lines, id="chord-list")

    def on_mount(self) -> None:
        self._timer = self.set_timer(self.timeout_s, lambda: self.action_pick(""))

    def on_key(self, event: events.Key) -> None:
        """A key that picks no area (and is not esc) cancels, and does nothing else."""
        if event.key in CHORDS or event.key == "escape":
            return  # the bindings above take it
        event.stop()
        event.prevent_default()
        self.action_pick("")

    def action_pick(self, name: str) -> None:
        """Close the box; go to ``name`` (nowhere when empty)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.is_current:
            self.dismiss(name or None)
