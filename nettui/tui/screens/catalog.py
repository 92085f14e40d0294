"""The catalog: tasks with their implementations per platform, workflows with their steps,
request forms and compliance checks; a render preview against a device, with the reason each
implementation was or was not chosen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import yaml
from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Header, Input, Label, OptionList, Static, TextArea, Tree
from textual.widgets.option_list import Option
from textual.widgets.tree import TreeNode
from textual.worker import Worker, WorkerState, get_current_worker

from catalog import models as m
from catalog.errors import NettuiError
from catalog.models.choices import ObjectType
from nettui.forms import FormSpec, list_forms, search_objects
from nettui.tui.widgets.code import config_syntax, titled
from nettui.tui.widgets.tables import fuzzy_match

if TYPE_CHECKING:
    from catalog.store import Store

LOAD_GROUP = "load-catalog"


# -- what the screen shows, read once from the store ----------------------------------------------


@dataclass(frozen=True)
class ImplementationView:
    slug: str
    name: str
    manufacturer: str
    platform: str
    version_pattern: str
    priority: int
    implementation_type: str
    enabled: bool
    template: str
    action_config: dict[str, Any]
    pre_checks: list[Any]
    post_checks: list[Any]


@dataclass(frozen=True)
class TaskView:
    slug: str
    name: str
    category: str
    description: str
    input_schema: dict[str, Any]
    implementations: tuple[ImplementationView, ...]


@dataclass(frozen=True)
class StepView:
    order: int
    name: str
    step_type: str
    task: str
    condition: str
    on_failure: str
    input_mapping: dict[str, Any]
    output_mapping: dict[str, Any]
    config: dict[str, Any]


@dataclass(frozen=True)
class WorkflowView:
    slug: str
    name: str
    category: str
    description: str
    version: str
    approval_required: bool
    enabled: bool
    input_schema: dict[str, Any]
    steps: tuple[StepView, ...]


@dataclass(frozen=True)
class CheckView:
    slug: str
    name: str
    description: str
    check_type: str
    standard: str
    severity: str
    check_logic: str
    match_rules: dict[str, Any]
    remediation: str


@dataclass
class CatalogView:
    tasks: list[TaskView] = field(default_factory=list)
    workflows: list[WorkflowView] = field(default_factory=list)
    forms: list[FormSpec] = field(default_factory=list)
    checks: list[CheckView] = field(default_factory=list)


def load_catalog(store: Store) -> CatalogView:
    """Everything the catalog screen shows, as plain data. Blocking: call it from a thread."""
    out = CatalogView(forms=list_forms(store, published_only=False))
    with store.read_session() as session:
        for task in session.scalars(
            select(m.TaskDefinition)
            .options(
                selectinload(m.TaskDefinition.implementations).selectinload(m.TaskImplementation.platform),
                selectinload(m.TaskDefinition.implementations).selectinload(m.TaskImplementation.manufacturer),
            )
            .order_by(m.TaskDefinition.name)
        ):
            out.tasks.append(
                TaskView(
                    task.slug,
                    task.name,
                    task.category,
                    task.description,
                    task.input_schema,
                    tuple(
                        ImplementationView(
                            i.slug,
                            i.name,
                            i.manufacturer.name,
                            i.platform.network_driver if i.platform else "",
                            i.software_version_pattern,
                            i.priority,
                            i.implementation_type.value,
                            i.enabled,
                            i.template_content,
                            i.action_config,
                            i.pre_checks,
                            i.post_checks,
                        )
                        for i in task.implementations
                    ),
                )
            )
        for workflow in session.scalars(
            select(m.Workflow)
            .options(selectinload(m.Workflow.steps).selectinload(m.WorkflowStep.task))
            .order_by(m.Workflow.name)
        ):
            out.workflows.append(
                WorkflowView(
                    workflow.slug,
                    workflow.name,
                    workflow.category,
                    workflow.description,
                    workflow.version,
                    workflow.approval_required,
                    workflow.enabled,
                    workflow.input_schema,
                    tuple(
                        StepView(
                            s.order,
                            s.name,
                            s.step_type.value,
                            s.task.slug if s.task else "",
                            s.condition,
                            s.on_failure.value,
                            s.input_mapping,
                            s.output_mapping,
                            s.config,
                        )
                        for s in workflow.steps
                    ),
                )
            )
        for check in session.scalars(
            select(m.ComplianceCheck)
            .options(selectinload(m.ComplianceCheck.remediation_workflow))
            .order_by(m.ComplianceCheck.name)
        ):
            out.checks.append(
                CheckView(
                    check.slug,
                    check.name,
                    check.description,
                    check.check_type.value,
                    check.standard,
                    check.severity.value,
                    check.check_logic,
                    check.match_rules,
                    check.remediation_workflow.slug if check.remediation_workflow else "",
                )
            )
    return out


def _yaml(value: Any) -> RenderableType:
    text = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=100).rstrip("\n")
    return Syntax(text, "yaml", theme="ansi_dark", background_color="default", word_wrap=True)


def _template(text: str) -> RenderableType:
    if not text.strip():
        return Text("(no template)", style="dim")
    return Syntax(text.rstrip("\n"), "jinja", theme="ansi_dark", background_color="default", word_wrap=True)


def _facts(rows: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    for label, value in rows:
        table.add_row(label, Text(value))
    return table


def task_detail(task: TaskView) -> RenderableType:
    rows = Table("IMPLEMENTATION", "PLATFORM", "VERSION", "PRIORITY", "TYPE", box=None, header_style="bold")
    for i in task.implementations:
        style = "" if i.enabled else "dim strike"
        rows.add_row(
            i.slug, i.platform or "any", i.version_pattern or "any", str(i.priority), i.implementation_type, style=style
        )
    return Group(
        Text(task.name, style="bold"),
        Text(task.description),
        Text(""),
        _facts([("slug", task.slug), ("category", task.category)]),
        Text(""),
        titled("Implementations (press r for a render preview)", rows),
        titled("Input schema", _yaml(task.input_schema)),
    )


def implementation_detail(impl: ImplementationView) -> RenderableType:
    parts: list[RenderableType] = [
        Text(impl.name, style="bold"),
        _facts(
            [
                ("slug", impl.slug),
                ("manufacturer", impl.manufacturer),
                ("platform", impl.platform or "any"),
                ("version", impl.version_pattern or "any"),
                ("priority", str(impl.priority)),
                ("type", impl.implementation_type),
                ("enabled", "yes" if impl.enabled else "no"),
            ]
        ),
        Text(""),
        titled("Template", _template(impl.template)),
    ]
    if impl.action_config:
        parts.append(titled("Action", _yaml(impl.action_config)))
    if impl.pre_checks:
        parts.append(titled("Pre-checks", _yaml(impl.pre_checks)))
    if impl.post_checks:
        parts.append(titled("Post-checks", _yaml(impl.post_checks)))
    return Group(*parts)


def workflow_detail(workflow: WorkflowView) -> RenderableType:
    steps = Table("#", "STEP", "TYPE", "TASK", "ON FAILURE", box=None, header_style="bold")
    for s in workflow.steps:
        steps.add_row(str(s.order), s.name, s.step_type, s.task, s.on_failure)
    return Group(
        Text(workflow.name, style="bold"),
        Text(workflow.description),
        Text(""),
        _facts(
            [
                ("slug", workflow.slug),
                ("version", workflow.version),
                ("category", workflow.category),
                ("approval", "required" if workflow.approval_required else "not required"),
                ("enabled", "yes" if workflow.enabled else "no"),
            ]
        ),
        Text(""),
        titled("Steps", steps),
        titled("Input schema", _yaml(workflow.input_schema)),
    )


def step_detail(step: StepView) -> RenderableType:
    parts: list[RenderableType] = [
        Text(f"{step.order}. {step.name}", style="bold"),
        _facts(
            [
                ("type", step.step_type),
                ("task", step.task or "—"),
                ("condition", step.condition or "always"),
                ("on failure", step.on_failure),
            ]
        ),
        Text(""),
    ]
    for title, value in (("Input mapping", step.input_mapping), ("Output mapping", step.output_mapping)):
        if value:
            parts.append(titled(title, _yaml(value)))
    if step.config:
        parts.append(titled("Config", _yaml(step.config)))
    return Group(*parts)


def form_detail(form: FormSpec) -> RenderableType:
    fields = Table("FIELD", "TYPE", "LABEL", "REQUIRED", "DEPENDS ON", "SHOWN WHEN", box=None, header_style="bold")
    for f in form.fields:
        kind = f.field_type.value + (f" ({f.object_type.value})" if f.object_type else "")
        fields.add_row(f.name, kind, f.label, "yes" if f.required else "", f.depends_on or "", f.show_condition)
    return Group(
        Text(f"{form.icon} {form.name}".strip(), style="bold"),
        Text(form.description),
        Text(""),
        _facts(
            [
                ("slug", form.slug),
                ("workflow", form.workflow_slug),
                ("category", form.category),
                ("published", "yes" if form.published else "no"),
            ]
        ),
        Text(""),
        titled("Fields", fields),
    )


def check_detail(check: CheckView) -> RenderableType:
    return Group(
        Text(check.name, style="bold"),
        Text(check.description),
        Text(""),
        _facts(
            [
                ("slug", check.slug),
                ("type", check.check_type),
                ("severity", check.severity),
                ("standard", check.standard or "—"),
                ("remediation", check.remediation or "—"),
            ]
        ),
        Text(""),
        titled("Applies to", _yaml(check.match_rules) if check.match_rules else Text("every device", style="dim")),
        titled("Check logic", _template(check.check_logic)),
    )


# -- the render preview ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderOutcome:
    """A task rendered for a device: every implementation judged, the chosen one's output."""

    verdicts: tuple[tuple[str, bool, str], ...]
    implementation: str
    content: str
    error: str


def example_intended(schema: dict[str, Any]) -> Any:
    """A starting point for a task's ``intended`` payload: its required keys, with defaults,
    the first allowed value or an empty one."""
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        required = schema.get("required") or list(props)
        return {name: example_intended(props.get(name) or {}) for name in required}
    if kind == "array":
        return []
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    return ""


def render_preview(store: Store, task_slug: str, device_name: str, intended_text: str) -> RenderOutcome:
    """Judge every implementation of the task for the device and render the chosen one with
    the intended payload (YAML). Touches no device. Blocking."""
    from catalog.context import render_for_device
    from catalog.matching import explain

    try:
        intended = yaml.safe_load(intended_text) if intended_text.strip() else {}
    except yaml.YAMLError as exc:
        return RenderOutcome((), "", "", f"the intended payload is not YAML: {exc}")
    if not isinstance(intended, dict):
        return RenderOutcome((), "", "", "the intended payload must be a mapping, e.g. port: {name: Gi1/0/1}")
    with store.read_session() as session:
        task = session.scalars(
            select(m.TaskDefinition)
            .where(m.TaskDefinition.slug == task_slug)
            .options(selectinload(m.TaskDefinition.implementations))
        ).one_or_none()
        device = session.scalars(select(m.Device).where(m.Device.name == device_name)).one_or_none()
        if task is None:
            return RenderOutcome((), "", "", f"no task '{task_slug}'")
        if device is None:
            return RenderOutcome((), "", "", f"no device '{device_name}'")
        verdicts = tuple((v.implementation.slug, v.accepted, v.reason) for v in explain(task, device))
        try:
            rendered = render_for_device(session, task_slug, device_name, intended, meta={"preview": True})
        except NettuiError as exc:
            return RenderOutcome(verdicts, "", "", exc.render())
        return RenderOutcome(verdicts, rendered.implementation.slug, rendered.content, "")


def outcome_renderable(outcome: RenderOutcome) -> RenderableType:
    why = Table("", "IMPLEMENTATION", "WHY", box=None, header_style="bold")
    for slug, accepted, reason in outcome.verdicts:
        mark = Text("✔" if slug == outcome.implementation else ("·" if accepted else "✖"))
        mark.stylize("green" if accepted else "red")
        why.add_row(mark, slug, reason)
    parts: list[RenderableType] = []
    if outcome.verdicts:
        parts.append(titled("Why this implementation", why))
    if outcome.error:
        parts.append(Text(outcome.error, style="red"))
    else:
        parts.append(titled(f"Rendered with {outcome.implementation}", config_syntax(outcome.content)))
    return Group(*parts)


class RenderPreviewScreen(ModalScreen[None]):
    """Render a task for a device you choose, with the payload you write; nothing is sent."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "render", "Render", id="render.run", tooltip="Render the task for the device."),
        Binding("escape", "dismiss", "Close", key_display="esc", id="render.close", tooltip="Back to the catalog."),
    ]

    def __init__(self, store: Store, task: TaskView) -> None:
        super().__init__()
        self.store = store
        self.catalog_task = task

    def compose(self) -> ComposeResult:
        with Vertical(id="render-dialog") as dialog:
            dialog.border_title = f"Render preview · {self.catalog_task.name}"
            dialog.border_subtitle = "ctrl+r render · esc close"
            with Horizontal(id="render-inputs"):
                with Vertical(id="render-device-pane"):
                    yield Label("Device", classes="render-label")
                    yield Input(placeholder="type to search", id="render-device")
                    yield OptionList(id="render-devices")
                with Vertical(id="render-intended-pane"):
                    yield Label("Intended (YAML)", classes="render-label")
                    skeleton = example_intended(self.catalog_task.input_schema)
                    text = yaml.safe_dump(skeleton, sort_keys=False) if skeleton else ""
                    yield TextArea(text, id="render-intended")
            yield Button("Render", id="render-button", variant="primary")
            with VerticalScroll(id="render-output"):
                yield Static("Choose a device, adjust the payload, then render.", id="render-result")

    def on_mount(self) -> None:
        self.search_devices("")

    @on(Input.Changed, "#render-device")
    def _device_typed(self, event: Input.Changed) -> None:
        self.search_devices(event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="render-devices")
    def search_devices(self, text: str) -> None:
        found = search_objects(self.store, ObjectType.DEVICE, text)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_devices, found.options)

    def _show_devices(self, options: tuple[Any, ...]) -> None:
        devices = self.query_one("#render-devices", OptionList)
        devices.clear_options()
        for option in options:
            devices.add_option(Option(Text.assemble(option.label, ("  " + option.detail, "dim")), id=option.label))

    @on(OptionList.OptionSelected, "#render-devices")
    def _device_chosen(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#render-device", Input).value = event.option.id or ""
        self.query_one("#render-intended", TextArea).focus()

    @on(Input.Submitted, "#render-device")
    def _device_submitted(self) -> None:
        self.query_one("#render-intended", TextArea).focus()

    @on(Button.Pressed, "#render-button")
    def _render_pressed(self) -> None:
        self.action_render()

    def action_render(self) -> None:
        """Render the task for the chosen device (in the background)."""
        device = self.query_one("#render-device", Input).value.strip()
        if not device:
            self.query_one("#render-result", Static).update(Text("Choose a device first.", style="red"))
            return
        self.run_render(device, self.query_one("#render-intended", TextArea).text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="render-run")
    def run_render(self, device: str, intended: str) -> None:
        outcome = render_preview(self.store, self.catalog_task.slug, device, intended)
        self.app.call_from_thread(self._rendered, outcome)

    def _rendered(self, outcome: RenderOutcome) -> None:
        self.outcome = outcome
        self.query_one("#render-result", Static).update(outcome_renderable(outcome))


# -- the screen -----------------------------------------------------------------------------------


class CatalogScreen(Screen[None]):
    """Browse the catalog: a tree on the left, the highlighted item in full on the right."""

    CSS_PATH = "catalog.tcss"
    AUTO_FOCUS = "#catalog-tree"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "focus_filter",
            "Filter",
            key_display="/",
            id="catalog.filter",
            tooltip="Narrow the tree by name or slug.",
            priority=True,
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            key_display="esc",
            id="catalog.clear_filter",
            tooltip="Empty the filter and go back to the tree.",
        ),
        Binding(
            "r",
            "render",
            "Render preview",
            id="catalog.render",
            tooltip="Render the highlighted task for a device you choose, and see why an implementation matched.",
        ),
        Binding("ctrl+l", "reload", "Reload", id="catalog.reload", tooltip="Read the catalog again from the store."),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.catalog = CatalogView()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="/  filter tasks, workflows, forms and checks", id="catalog-filter")
        with Horizontal(id="catalog-body"):
            tree: Tree[tuple[str, Any]] = Tree("Catalog", id="catalog-tree")
            tree.show_root = False
            yield tree
            with VerticalScroll(id="catalog-detail"):
                yield Static("Highlight an item to see it here.", id="detail-body")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Catalog"
        self.query_one("#catalog-body").loading = True
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group=LOAD_GROUP, description="loading the catalog")
    def load(self) -> CatalogView:
        return load_catalog(self.store)

    @on(Worker.StateChanged)
    def _loaded(self, event: Worker.StateChanged) -> None:
        if event.worker.group != LOAD_GROUP:
            return
        if event.state == WorkerState.SUCCESS:
            self.catalog = event.worker.result or CatalogView()
            self.query_one("#catalog-body").loading = False
            self._fill_tree()
        elif event.state == WorkerState.ERROR:
            self.query_one("#catalog-body").loading = False
            error = event.worker.error
            text = error.render() if isinstance(error, NettuiError) else f"{type(error).__name__}: {error}"
            self.notify(text, title="Could not read the catalog", severity="error", markup=False)

    def _fill_tree(self) -> None:
        query = self.query_one("#catalog-filter", Input).value

        def keep(*texts: str) -> bool:
            return fuzzy_match(query, "\x00".join(texts))

        tree: Tree[tuple[str, Any]] = self.query_one("#catalog-tree", Tree)
        tree.clear()
        filtering = bool(query.strip())
        tasks = [t for t in self.catalog.tasks if keep(t.name, t.slug, *(i.slug for i in t.implementations))]
        section = tree.root.add(f"Tasks ({len(tasks)})", ("section", None), expand=True)
        for task in tasks:
            node = section.add(task.name, ("task", task), expand=filtering)
            for impl in task.implementations:
                node.add_leaf(
                    Text.assemble(impl.platform or "any", ("  " + impl.slug, "dim")), ("implementation", impl)
                )
        workflows = [w for w in self.catalog.workflows if keep(w.name, w.slug)]
        section = tree.root.add(f"Workflows ({len(workflows)})", ("section", None), expand=True)
        for workflow in workflows:
            node = section.add(workflow.name, ("workflow", workflow), expand=filtering)
            for step in workflow.steps:
                node.add_leaf(
                    Text.assemble(f"{step.order}. {step.name}", (f"  {step.step_type}", "dim")), ("step", step)
                )
        forms = [f for f in self.catalog.forms if keep(f.name, f.slug, f.category)]
        section = tree.root.add(f"Request forms ({len(forms)})", ("section", None), expand=True)
        for form in forms:
            section.add_leaf(f"{form.icon} {form.name}".strip(), ("form", form))
        checks = [c for c in self.catalog.checks if keep(c.name, c.slug)]
        section = tree.root.add(f"Compliance checks ({len(checks)})", ("section", None), expand=True)
        for check in checks:
            section.add_leaf(Text.assemble(check.name, (f"  {check.severity}", "dim")), ("check", check))
        tree.move_cursor(tree.root.children[0] if tree.root.children else None)

    @on(Tree.NodeHighlighted, "#catalog-tree")
    def _highlighted(self, event: Tree.NodeHighlighted[tuple[str, Any]]) -> None:
        self._show(event.node)

    def _show(self, node: TreeNode[tuple[str, Any]]) -> None:
        kind, item = node.data or ("section", None)
        body: RenderableType
        if kind == "task":
            body = task_detail(item)
        elif kind == "implementation":
            body = implementation_detail(item)
        elif kind == "workflow":
            body = workflow_detail(item)
        elif kind == "step":
            body = step_detail(item)
        elif kind == "form":
            body = form_detail(item)
        elif kind == "check":
            body = check_detail(item)
        else:
            body = Text(str(node.label), style="bold")
        self.query_one("#detail-body", Static).update(body)
        self.refresh_bindings()

    def _highlighted_task(self) -> TaskView | None:
        node = self.query_one("#catalog-tree", Tree).cursor_node
        if node is None or node.data is None:
            return None
        kind, item = node.data
        if kind == "task":
            return item  # type: ignore[no-any-return]
        if kind == "implementation" and node.parent is not None and node.parent.data is not None:
            return node.parent.data[1]  # type: ignore[no-any-return]
        return None

    def action_render(self) -> None:
        """Render the highlighted task for a device (a dialog)."""
        task = self._highlighted_task()
        if task is None:
            self.notify("Highlight a task or one of its implementations first.", severity="warning")
            return
        self.app.push_screen(RenderPreviewScreen(self.store, task))

    def action_focus_filter(self) -> None:
        """Put the cursor in the filter box."""
        self.set_focus(self.query_one("#catalog-filter", Input))

    def action_clear_filter(self) -> None:
        """Empty the filter and go back to the tree."""
        self.query_one("#catalog-filter", Input).value = ""
        self.query_one("#catalog-tree", Tree).focus()

    def action_reload(self) -> None:
        """Read the catalog again from the store."""
        self.load()

    @on(Input.Changed, "#catalog-filter")
    def _filter_changed(self) -> None:
        self._fill_tree()

    @on(Input.Submitted, "#catalog-filter")
    def _filter_submitted(self) -> None:
        self.query_one("#catalog-tree", Tree).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_filter":
            return not isinstance(self.focused, Input | TextArea)
        if action == "render":
            return self._highlighted_task() is not None and not isinstance(self.focused, Input)
        if action == "clear_filter":
            return bool(self.query_one("#catalog-filter", Input).value) or isinstance(self.focused, Input)
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()
