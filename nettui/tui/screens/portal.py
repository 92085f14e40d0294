"""The portal: the published request forms, grouped by category; enter opens one."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from catalog.errors import NettuiError
from nettui.forms import FormSpec, list_forms
from nettui.tui.screens import ScreenCommand
from nettui.tui.screens.form import FormScreen
from nettui.tui.widgets.tables import fuzzy_match

if TYPE_CHECKING:
    from catalog.store import Store

LOAD_GROUP = "load-forms"


def matching_forms(forms: list[FormSpec], query: str) -> list[FormSpec]:
    """The forms whose text holds every term of ``query``; when none does, the fuzzy matches
    (letters in order), so a typo still finds something without crowding out exact hits."""
    texts = {f.slug: "\x00".join((f.name, f.description, f.category, f.slug)) for f in forms}
    terms = query.casefold().split()
    exact = [f for f in forms if all(t in texts[f.slug].casefold() for t in terms)]
    return exact or [f for f in forms if fuzzy_match(query, texts[f.slug])]


class FormList(OptionList):
    """The forms under their category headings; enter opens the highlighted one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open", id="portal.open", tooltip="Open the highlighted form to fill it in."),
    ]


class PortalScreen(Screen[None]):
    """Self-service requests: every published form, by category, with its icon and description."""

    CSS_PATH = "portal.tcss"
    AUTO_FOCUS = "FormList"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "focus_filter",
            "Filter",
            key_display="/",
            id="portal.filter",
            tooltip="Narrow the forms by name, description or category.",
            priority=True,
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            key_display="esc",
            id="portal.clear_filter",
            tooltip="Empty the filter and go back to the forms.",
        ),
        Binding("r", "reload", "Reload", id="portal.reload", tooltip="Read the forms again from the store."),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.forms: list[FormSpec] = []
        self.shown: list[FormSpec | None] = []  # per option: its form (None for a heading)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="/  filter forms by name, description, category", id="portal-filter")
        yield FormList(id="forms")
        yield Static("", id="portal-empty")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Portal"
        self.query_one(FormList).border_title = "Request forms"
        self.query_one(FormList).loading = True
        self.load_forms()

    def commands(self) -> list[ScreenCommand]:
        """The palette: open any published form from anywhere in the portal."""
        return [
            ScreenCommand(f"Open form: {form.name}", form.description, partial(self.open_form, form.slug))
            for form in self.forms
        ]

    @work(thread=True, exclusive=True, exit_on_error=False, group=LOAD_GROUP, description="loading forms")
    def load_forms(self) -> list[FormSpec]:
        return list_forms(self.store)

    @on(Worker.StateChanged)
    def _loaded(self, event: Worker.StateChanged) -> None:
        if event.worker.group != LOAD_GROUP:
            return
        if event.state == WorkerState.SUCCESS:
            self.forms = event.worker.result or []
            form_list = self.query_one(FormList)
            form_list.loading = False
            self._show()
            if self.focused is None:  # AUTO_FOCUS can find the list still loading: enter works now
                form_list.focus()
        elif event.state == WorkerState.ERROR:
            self.query_one(FormList).loading = False
            error = event.worker.error
            text = error.render() if isinstance(error, NettuiError) else f"{type(error).__name__}: {error}"
            self.notify(text, title="Could not read the forms", severity="error", markup=False)

    def _show(self) -> None:
        query = self.query_one("#portal-filter", Input).value
        forms = matching_forms(self.forms, query)
        form_list = self.query_one(FormList)
        form_list.clear_options()
        self.shown = []
        category = None
        for form in forms:
            if form.category != category:
                category = form.category
                form_list.add_option(Option(Text(category.upper(), style="bold $accent"), disabled=True))
                self.shown.append(None)
            prompt = Text.assemble((f"{form.icon or '•'}  ", ""), (form.name, "bold"))
            if form.approval_required:
                prompt.append("  needs approval", style="dim italic")
            if form.description:
                prompt.append("\n    " + form.description, style="dim")
            form_list.add_option(Option(prompt, id=form.slug))
            self.shown.append(form)
        first = next((i for i, f in enumerate(self.shown) if f is not None), None)
        if first is not None:
            form_list.highlighted = first
        form_list.border_subtitle = f"{len(forms)} of {len(self.forms)}" if query.strip() else str(len(forms))
        empty = self.query_one("#portal-empty", Static)
        if not self.forms:
            empty.update("No published forms. Import the catalog with: nettui catalog import")
        elif not forms:
            empty.update(Text(f"No form matches {query.strip()}. Press esc to clear the filter."))
        else:
            empty.update("")
        empty.display = not forms

    @on(Input.Changed, "#portal-filter")
    def _filter_changed(self) -> None:
        self._show()
        self.refresh_bindings()

    @on(Input.Submitted, "#portal-filter")
    def _filter_submitted(self) -> None:
        self.query_one(FormList).focus()

    @on(OptionList.OptionSelected, "#forms")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.open_form(event.option.id)

    def open_form(self, slug: str) -> None:
        """Open the form ``slug`` to fill it in."""
        self.app.push_screen(FormScreen(self.store, slug))

    def action_focus_filter(self) -> None:
        """Put the cursor in the filter box."""
        self.set_focus(self.query_one("#portal-filter", Input))

    def action_clear_filter(self) -> None:
        """Empty the filter and go back to the forms."""
        self.query_one("#portal-filter", Input).value = ""
        self.query_one(FormList).focus()

    def action_reload(self) -> None:
        """Read the forms again from the store."""
        self.load_forms()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_filter":
            return not isinstance(self.focused, Input)
        if action == "clear_filter":
            return bool(self.query_one("#portal-filter", Input).value) or isinstance(self.focused, Input)
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()
