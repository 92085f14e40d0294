"""Small dialogs: confirm an action, or give the comment a decision needs."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

DIALOG_CSS = """
$dialog-width: 64;
ConfirmDialog, CommentDialog {
    align: center middle;
    & > Vertical {
        width: $dialog-width;
        max-width: 90%;
        height: auto;
        padding: 1 2;
        background: $panel;
        border: round $primary;
        border-title-style: bold;
    }
    .dialog-text { width: 100%; margin-bottom: 1; }
    .dialog-error { color: $error; height: auto; }
    Input { margin-bottom: 1; }
    .dialog-buttons { height: auto; align-horizontal: right; }
    Button { margin-left: 2; }
}
"""


class ConfirmDialog(ModalScreen[bool]):
    """Ask before doing something that cannot be undone; ``y`` confirms, ``n``/``esc`` do not."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="dialog.yes", tooltip="Do it."),
        Binding("n,escape", "answer(False)", "No", id="dialog.no", tooltip="Leave it as it is."),
    ]

    def __init__(self, title: str, question: str, *, confirm: str = "Yes") -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Content(self.title_text)
            yield Label(Content(self.question), classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("No", id="no")
                yield Button(self.confirm, id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class CommentDialog(ModalScreen[str | None]):
    """Ask for the comment an approval or a rejection needs; empty is refused in place."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel", tooltip="Decide nothing."),
    ]

    def __init__(self, title: str, prompt: str, *, confirm: str, variant: str = "primary") -> None:
        super().__init__()
        self.title_text = title
        self.prompt = prompt
        self.confirm = confirm
        self.variant = variant

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Content(self.title_text)
            yield Label(Content(self.prompt), classes="dialog-text")
            yield Input(placeholder="why (kept in the audit trail)", id="comment")
            yield Label("", classes="dialog-error", id="comment-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(self.confirm, id="confirm", variant=self.variant)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.query_one("#comment", Input).focus()

    def _submit(self) -> None:
        comment = self.query_one("#comment", Input).value.strip()
        if not comment:
            self.query_one("#comment-error", Label).update("A comment is required: say why.")
            self.query_one("#comment", Input).focus()
            return
        self.dismiss(comment)

    @on(Input.Submitted, "#comment")
    def _entered(self) -> None:
        self._submit()

    @on(Button.Pressed, "#confirm")
    def _confirmed(self) -> None:
        self._submit()

    @on(Button.Pressed, "#cancel")
    def _cancelled(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
