"""Every field of one device, in a dialog over the inventory."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label

if TYPE_CHECKING:
    from nettui.tui.screens.devices import DeviceRow


def field_id(label: str) -> str:
    """The widget id of a field's value, e.g. ``field-ssh-port`` for "SSH port"."""
    return "field-" + "-".join(label.lower().split())


class DeviceDetailScreen(ModalScreen[None]):
    """A read-only card with every field of a device; any of escape, enter or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", key_display="esc", id="device.close", tooltip="Back to the devices."),
        Binding("enter,q", "dismiss", "Close", show=False, id="device.close_alt", tooltip="Back to the devices."),
    ]

    def __init__(self, device: DeviceRow) -> None:
        super().__init__()
        self.device = device

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="device-detail") as card:
            card.border_title = Content(self.device.name)  # Content: a str title is read as markup
            card.border_subtitle = "esc to close"
            with Grid(id="device-fields"):
                for label, value in self.device.details():
                    yield Label(label, classes="field-label")
                    # markup=False: values are the operator's data, never Textual markup.
                    yield Label(value or "—", id=field_id(label), classes="field-value", markup=False)

    def on_click(self, event: events.Click) -> None:
        # A click on the dimmed background, outside the card, closes it, as in most dialogs.
        if event.widget is self:
            self.dismiss()
