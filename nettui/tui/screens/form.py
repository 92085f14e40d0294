"""One request form: every field type, checked as it is typed, fields that appear as earlier
answers allow them, a preview of what each device receives, and submit."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Header,
    Input,
    Label,
    OptionList,
    Select,
    SelectionList,
    Static,
)
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from catalog.errors import NettuiError
from catalog.models.choices import FieldType, ObjectType
from nettui.forms import DevicePreview, FieldSpec, FormDraft, InvalidForm, Options
from nettui.tui.widgets.code import config_syntax, titled

if TYPE_CHECKING:
    from catalog.store import Store

DRAFT_GROUP = "form-draft"
# What an object selector's box asks for ("type to search for ...").
OBJECT_NOUNS = {
    ObjectType.DEVICE: "a device",
    ObjectType.INTERFACE: "an interface",
    ObjectType.VLAN: "a VLAN",
    ObjectType.VRF: "a VRF",
    ObjectType.PREFIX: "a prefix",
    ObjectType.IP_ADDRESS: "an IP address",
    ObjectType.LOCATION: "a location",
    ObjectType.TENANT: "a tenant",
    ObjectType.TAG: "a tag",
    ObjectType.PLATFORM: "a platform",
    ObjectType.MANUFACTURER: "a manufacturer",
    ObjectType.DEVICE_ROLE: "a device role",
}
PREVIEW_GROUP = "form-preview"
SUBMIT_GROUP = "form-submit"


def describe(error: BaseException | None) -> str:
    if isinstance(error, NettuiError):
        return error.render()
    return f"{type(error).__name__}: {error}" if error is not None else "unknown error"


class FormScreen(Screen[None]):
    """Fill in one request form and submit it; the preview follows the answers."""

    CSS_PATH = "form.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Submit", id="form.submit", tooltip="Check the answers and submit the request."),
        Binding(
            "ctrl+r",
            "preview",
            "Preview",
            id="form.preview",
            tooltip="Render what each device would receive, with the diff against its last backup.",
        ),
        Binding("escape", "leave", "Back", key_display="esc", id="form.back", tooltip="Back to the portal."),
    ]

    def __init__(self, store: Store, form_slug: str) -> None:
        super().__init__()
        self.store = store
        self.form_slug = form_slug
        self.draft: FormDraft | None = None
        self._lock = threading.Lock()  # one answer at a time reaches the draft
        self._chosen: dict[str, str] = {}  # selector -> text of its chosen option, as shown
        self._quiet: set[str] = set()  # inputs changed by code, not by the operator
        self._options: dict[str, Options] = {}

    # -- building ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="form-body"):
            yield VerticalScroll(id="form-fields")
            with VerticalScroll(id="form-preview") as preview:
                preview.border_title = "Preview"
                yield Static("Answer the form to see what each device would receive.", id="preview-body")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#form-fields").loading = True
        self.load_form()

    @work(thread=True, exclusive=True, exit_on_error=False, group=DRAFT_GROUP, description="loading the form")
    def load_form(self) -> None:
        try:
            draft = FormDraft(self.store, self.form_slug)
        except NettuiError as exc:
            self.app.call_from_thread(self._load_failed, exc)
            return
        self.app.call_from_thread(self._show_form, draft)

    def _load_failed(self, error: NettuiError) -> None:
        self.query_one("#form-fields").loading = False
        self.notify(error.render(), title="Could not open the form", severity="error", markup=False)

    async def _show_form(self, draft: FormDraft) -> None:
        self.draft = draft
        form = draft.form
        self.sub_title = f"{form.icon} {form.name}".strip()
        fields = self.query_one("#form-fields", VerticalScroll)
        fields.border_title = form.name
        fields.border_subtitle = "approval required" if form.approval_required else ""
        widgets: list[Any] = []
        if form.description:
            widgets.append(Static(form.description, id="form-description", markup=False))
        widgets += [self._field_box(spec) for spec in form.fields]
        widgets.append(
            Horizontal(
                Button("Submit", id="submit", variant="primary", tooltip="ctrl+s"),
                Button("Preview", id="preview", tooltip="ctrl+r"),
                id="form-buttons",
            )
        )
        await fields.mount_all(widgets)
        fields.loading = False
        self._sync(set())
        first = self._first_input()
        if first is not None:
            first.focus()

    def _field_box(self, spec: FieldSpec) -> Vertical:
        label = Text(spec.label)
        if spec.required:
            label.append(" *", style="bold red")
        children: list[Any] = [Label(label, id=f"label-{spec.name}", classes="field-label")]
        value = self.draft.raw.get(spec.name) if self.draft else None
        kind = spec.field_type
        if kind in (FieldType.TEXT, FieldType.NUMBER):
            children.append(
                Input(
                    "" if value is None else str(value),
                    placeholder="a number" if kind == FieldType.NUMBER else "",
                    id=f"input-{spec.name}",
                    classes="field-input",
                )
            )
        elif kind == FieldType.OBJECT_SELECTOR:
            noun = OBJECT_NOUNS.get(spec.object_type, "an object") if spec.object_type else "an object"
            children.append(
                Input(placeholder=f"type to search for {noun}", id=f"input-{spec.name}", classes="field-input")
            )
            options = OptionList(id=f"options-{spec.name}", classes="field-options")
            children.append(options)
        elif kind == FieldType.CHOICE:
            assert self.draft is not None
            choices = [(o.label, o.value) for o in self.draft.choices(spec.name)]
            children.append(
                Select(
                    choices,
                    prompt=f"Choose {spec.label.lower()}",
                    allow_blank=True,
                    value=value if value is not None and any(v == value for _, v in choices) else Select.NULL,
                    id=f"input-{spec.name}",
                    classes="field-input",
                )
            )
        elif kind == FieldType.MULTI_CHOICE:
            assert self.draft is not None
            picked = value if isinstance(value, list) else []
            children.append(
                SelectionList[Any](
                    *[(o.label, o.value, o.value in picked) for o in self.draft.choices(spec.name)],
                    id=f"input-{spec.name}",
                    classes="field-input",
                )
            )
        else:
            children.append(Checkbox(spec.label, bool(value), id=f"input-{spec.name}", classes="field-input"))
        if spec.help_text:
            children.append(Static(spec.help_text, classes="field-help", markup=False))
        children.append(Static("", id=f"error-{spec.name}", classes="field-error", markup=False))
        box = Vertical(*children, id=f"field-{spec.name}", classes="field")
        box.display = False
        return box

    def _first_input(self) -> Any:
        if self.draft is None:
            return None
        for spec in self.draft.visible():
            return self.query_one(f"#input-{spec.name}")
        return None

    # -- keeping the screen in step with the draft --------------------------------------------

    def _sync(self, changed: set[str]) -> None:
        """Show the fields the answers allow, each with its error; reload the options of
        selectors that just appeared or whose filter reads a changed answer."""
        draft = self.draft
        if draft is None:
            return
        shown = {spec.name for spec in draft.visible()}
        for spec in draft.form.fields:
            box = self.query_one(f"#field-{spec.name}", Vertical)
            appeared = spec.name in shown and not box.display
            box.display = spec.name in shown
            error = draft.errors.get(spec.name, "") if spec.name in shown else ""
            error_line = self.query_one(f"#error-{spec.name}", Static)
            error_line.update(error)
            error_line.display = bool(error)
            box.set_class(bool(error), "-invalid")
            if spec.field_type != FieldType.OBJECT_SELECTOR:
                continue
            field_input = self.query_one(f"#input-{spec.name}", Input)
            if spec.name not in draft.values and spec.name in self._chosen:
                # The answer went (a changed device makes its port meaningless): so does its text.
                del self._chosen[spec.name]
                if field_input.value:
                    self._set_quietly(field_input, "")
            if spec.name in shown and (appeared or (changed & spec.filter_names)):
                self.load_options(spec.name, "" if spec.name in self._chosen else field_input.value)
        self.schedule_preview()

    def _set_quietly(self, widget: Input, value: str) -> None:
        self._quiet.add(widget.id or "")
        widget.value = value

    def _field_of(self, widget_id: str | None) -> str:
        return (widget_id or "").partition("-")[2]

    # -- answers ------------------------------------------------------------------------------

    @on(Input.Changed, ".field-input")
    def _input_changed(self, event: Input.Changed) -> None:
        if self.draft is None:
            return
        if event.input.id in self._quiet:
            self._quiet.discard(event.input.id or "")
            return
        name = self._field_of(event.input.id)
        spec = self.draft.form.field(name)
        if spec.field_type == FieldType.OBJECT_SELECTOR:
            if name in self._chosen and event.value != self._chosen[name]:
                self.answer(name, None)  # typing again means choosing again
            self.load_options(name, event.value)
            return
        self.answer(name, event.value)

    @on(Input.Submitted, ".field-input")
    def _input_submitted(self, event: Input.Submitted) -> None:
        if self.draft is None:
            return
        name = self._field_of(event.input.id)
        spec = self.draft.form.field(name)
        if spec.field_type != FieldType.OBJECT_SELECTOR:
            self.focus_next()
            return
        if name in self._chosen and event.value == self._chosen[name]:
            self.focus_next()
            return
        offered = self._options.get(name)
        typed = event.value.strip()
        if offered is not None and offered.options:
            exact = [o for o in offered.options if str(o.value) == typed or o.label == typed]
            if exact or len(offered.options) == 1:
                self._choose(name, (exact or list(offered.options))[0].value)
                return
            options = self.query_one(f"#options-{name}", OptionList)
            if options.highlighted is not None and not typed:
                self._choose(name, offered.options[options.highlighted].value)
                return
        if typed:
            self._choose(name, typed)

    @on(OptionList.OptionSelected, ".field-options")
    def _option_selected(self, event: OptionList.OptionSelected) -> None:
        name = self._field_of(event.option_list.id)
        offered = self._options.get(name)
        if offered is None or event.option_index >= len(offered.options):
            return
        self._choose(name, offered.options[event.option_index].value)

    def _choose(self, name: str, value: Any) -> None:
        self._chosen[name] = str(value)
        self._set_quietly(self.query_one(f"#input-{name}", Input), str(value))
        self.answer(name, value, advance=True)

    @on(Select.Changed, ".field-input")
    def _select_changed(self, event: Select.Changed) -> None:
        value = None if event.value in (Select.NULL, Select.BLANK) else event.value
        self.answer(self._field_of(event.select.id), value)

    @on(SelectionList.SelectedChanged, ".field-input")
    def _selection_changed(self, event: SelectionList.SelectedChanged[Any]) -> None:
        self.answer(self._field_of(event.selection_list.id), list(event.selection_list.selected))

    @on(Checkbox.Changed, ".field-input")
    def _checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.answer(self._field_of(event.checkbox.id), event.value)

    @work(thread=True, exit_on_error=False, group=DRAFT_GROUP, description="checking an answer")
    def answer(self, name: str, value: Any, advance: bool = False) -> None:
        """Give the draft one answer (an object is looked up in the store: off the UI thread)."""
        draft = self.draft
        if draft is None:
            return
        with self._lock:
            draft.set(name, value)
        self.app.call_from_thread(self._answered, name, advance)

    def _answered(self, name: str, advance: bool) -> None:
        self._sync({name})
        if advance and self.draft is not None and name in self.draft.values:
            options = self.query(f"#options-{name}")
            if options:
                options.first(OptionList).clear_options()
                self._options.pop(name, None)
            self.call_after_refresh(self._focus_after, name)

    def _focus_after(self, name: str) -> None:
        """Move to the next shown field's input after ``name`` (or the Submit button)."""
        if self.draft is None:
            return
        names = [spec.name for spec in self.draft.visible()]
        later = names[names.index(name) + 1 :] if name in names else []
        if later:
            self.query_one(f"#input-{later[0]}").focus()
        else:
            self.query_one("#submit", Button).focus()

    def load_options(self, name: str, search: str) -> None:
        self.run_worker(
            lambda: self._fetch_options(name, search),
            thread=True,
            exclusive=True,
            exit_on_error=False,
            group=f"options-{name}",
            description=f"searching {name}",
        )

    def _fetch_options(self, name: str, search: str) -> None:
        draft = self.draft
        if draft is None:
            return
        try:
            offered = draft.options(name, search)
        except NettuiError as exc:
            self.app.call_from_thread(self._options_failed, name, exc)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_options, name, offered)

    def _options_failed(self, name: str, error: NettuiError) -> None:
        self.query_one(f"#error-{name}", Static).update(error.render())

    def _show_options(self, name: str, offered: Options) -> None:
        self._options[name] = offered
        options = self.query_one(f"#options-{name}", OptionList)
        options.clear_options()
        if offered.waiting_for:
            options.add_option(Option(Text(f"Choose {' and '.join(offered.waiting_for)} first.", "dim"), disabled=True))
            return
        if not offered.options:
            options.add_option(Option(Text("Nothing matches.", "dim"), disabled=True))
            return
        for option in offered.options:
            prompt = Text(option.label)
            if option.detail:
                prompt.append(f"  {option.detail}", style="dim")
            options.add_option(Option(prompt))
        if offered.more:
            options.add_option(Option(Text("… more: type to narrow", "dim"), disabled=True))

    # -- preview ------------------------------------------------------------------------------

    def schedule_preview(self) -> None:
        draft = self.draft
        if draft is None:
            return
        problems = draft.problems()
        if problems:
            missing = [draft.form.field(n).label for n in problems if n]
            text = Text("Complete the form to see what each device would receive.", style="dim")
            if missing:
                text.append(f"\nStill to answer or correct: {', '.join(missing)}.", style="dim")
            elif "" in problems:
                text.append(f"\n{problems['']}", style="bold red")
            self.query_one("#preview-body", Static).update(text)
            return
        self.action_preview()

    def action_preview(self) -> None:
        """Render what each device would receive (in the background)."""
        if self.draft is not None:
            self.run_preview()

    @work(thread=True, exclusive=True, exit_on_error=False, group=PREVIEW_GROUP, description="rendering the preview")
    def run_preview(self) -> None:
        draft = self.draft
        assert draft is not None
        try:
            with self._lock:
                previews = draft.preview(requested_by=self._user())
        except InvalidForm as exc:
            self.app.call_from_thread(self._show_invalid, exc)
            return
        except NettuiError as exc:
            self.app.call_from_thread(self._preview_text, Text(exc.render(), style="red"))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._preview_text, preview_renderable(previews))

    def _preview_text(self, renderable: RenderableType) -> None:
        self.query_one("#preview-body", Static).update(renderable)

    def _show_invalid(self, error: InvalidForm) -> None:
        self._sync(set())
        self._preview_text(Text(error.what, style="red"))

    # -- submit -------------------------------------------------------------------------------

    def _user(self) -> str:
        import getpass

        return str(getattr(self.app, "user", None) or getpass.getuser())

    def action_submit(self) -> None:
        """Check every answer against the form and the workflow, then submit."""
        if self.draft is None:
            return
        if getattr(self.app, "read_only", False) and getattr(self.app, "user_checked", True):
            self.notify(
                f"'{self._user()}' may not submit requests (not an operator).",
                title="Read-only",
                severity="warning",
            )
            return
        self.run_submit()

    @on(Button.Pressed, "#submit")
    def _submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#preview")
    def _preview_pressed(self) -> None:
        self.action_preview()

    @work(thread=True, exclusive=True, exit_on_error=False, group=SUBMIT_GROUP, description="submitting")
    def run_submit(self) -> None:
        draft = self.draft
        assert draft is not None
        try:
            with self._lock:
                execution_id = draft.submit(self._user())
        except InvalidForm as exc:
            self.app.call_from_thread(self._refused, exc)
            return
        except NettuiError as exc:
            self.app.call_from_thread(self.notify, exc.render(), title="Not submitted", severity="error", markup=False)
            return
        self.app.call_from_thread(self._submitted, execution_id)

    def _refused(self, error: InvalidForm) -> None:
        self._sync(set())
        count = len(error.errors)
        self.notify(
            "\n".join(f"{self._label(n)}: {m}" for n, m in error.errors.items()),
            title=f"Not submitted: {count} problem{'s' if count != 1 else ''}",
            severity="error",
            markup=False,
        )
        first = next((n for n in error.errors if n), None)
        if first is not None:
            self.query_one(f"#input-{first}").focus()

    def _label(self, name: str) -> str:
        return self.draft.form.field(name).label if self.draft and name else "Form"

    def _submitted(self, execution_id: int) -> None:
        self.notify(f"Execution {execution_id} submitted.", title="Submitted")
        open_execution = getattr(self.app, "open_execution", None)
        self.app.pop_screen()
        if callable(open_execution):
            open_execution(execution_id)

    def action_leave(self) -> None:
        """Back to the portal; the answers are dropped."""
        self.app.pop_screen()


def preview_renderable(previews: list[DevicePreview]) -> RenderableType:
    """Per device: the configuration it would receive, then the diff against its last backup."""
    if not previews:
        return Text("This request targets no device: nothing is rendered.", style="dim")
    parts: list[RenderableType] = []
    for preview in previews:
        implementations = ", ".join(s.implementation for s in preview.steps if s.implementation)
        title = f"{preview.device}" + (f" · {implementations}" if implementations else "")
        body: list[RenderableType] = [config_syntax(preview.config)]
        for problem in preview.errors:
            body.append(Text(f"✖ {problem}", style="bold red"))
        if preview.diff:
            body.append(Text(f"Diff against the {preview.current_source}:", style="bold"))
            body.append(Syntax(preview.diff.rstrip("\n"), "diff", theme="ansi_dark", background_color="default"))
        elif preview.current_source:
            body.append(Text(f"No change against the {preview.current_source}.", style="dim"))
        else:
            body.append(
                Text(
                    f"No current configuration is known for {preview.device} (no backup yet): nothing to compare with.",
                    style="dim italic",
                )
            )
        parts.append(titled(title, Group(*body)))
    return Group(*parts)
