"""The parts the list screens (Discovery, Upgrades, Compliance, Backups) build alike: the
bordered, scrollable detail of the selected row, and the progress line of a job running."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import ProgressBar, Static


class DetailPane(VerticalScroll):
    """The selected row's detail under a screen's table: a titled border (brighter when
    focused) around one body, ``#ID-body``, that shows ``placeholder`` (dim) until the screen
    updates it. Its height is the screen's to give (``#ID { height: … }``)."""

    DEFAULT_CSS = """
    DetailPane {
        margin: 0 1;
        padding: 0 1;
        border: round $border-blurred;
        &:focus { border: round $border; }
    }
    """

    def __init__(self, *, title: str, placeholder: str, id: str) -> None:
        super().__init__(id=id)
        self.border_title = title
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        yield Static(Text(self._placeholder, style="dim"), id=f"{self.id}-body")


class ProgressLine(Horizontal):
    """A bar (``#PREFIX-bar``) and a line of text (``#PREFIX-progress``) for a job the screen
    runs; hidden but while it has the class ``-running``."""

    DEFAULT_CSS = """
    ProgressLine {
        height: auto;
        display: none;
        &.-running { display: block; }
        & > ProgressBar { width: auto; }
        & > Static { height: 1; padding: 0 1; }
    }
    """

    def __init__(self, prefix: str) -> None:
        super().__init__(id=f"{prefix}-progress-line")
        self._prefix = prefix

    def compose(self) -> ComposeResult:
        yield ProgressBar(id=f"{self._prefix}-bar", show_eta=False)
        yield Static(id=f"{self._prefix}-progress", markup=False)
