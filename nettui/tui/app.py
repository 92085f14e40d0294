"""The Textual application behind ``nettui`` with no arguments."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.widgets import HelpPanel

from nettui.tui.screens.devices import DevicesScreen

if TYPE_CHECKING:
    from catalog.store import Store


class NettuiApp(App[None]):
    """The operator's workbench, opened on one store; the first screen is the device inventory."""

    TITLE = "nettui"
    CSS_PATH = "nettui.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave nettui."),
        Binding(
            "question_mark",
            "toggle_help",
            "Keys",
            key_display="?",
            id="app.help",
            tooltip="Show or hide the keys that work where the cursor is.",
        ),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def get_default_screen(self) -> DevicesScreen:
        return DevicesScreen(self.store)

    def action_toggle_help(self) -> None:
        """Open the key help panel, or close it if it is open."""
        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()
