"""The Textual application behind ``nettui`` with no arguments: the shell around every screen.

Each area (Home, Portal, Executions, ...) is a Textual *mode* with its own screen stack, so
an execution opened from the Executions list stays open there while the operator looks at
Approvals. Screens come from the registry in ``nettui.tui.screens``, imported on first use.
The app mounts a sidebar (the areas, clickable) and a status line (store, engine, user) into
every top-level screen. With ``engine=True`` an embedded engine runs pending executions in a
thread of its own for as long as the app is open.
"""

from __future__ import annotations

import asyncio
import getpass
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import ModalScreen, Screen
from textual.signal import Signal
from textual.widgets import Header, HelpPanel
from textual.worker import Worker, WorkerState

from catalog.models.choices import UserRole
from nettui.tui.screens import AREAS, AREAS_BY_NAME, MissingScreen, ScreenCommand, screen_class
from nettui.tui.widgets.chords import ChordScreen, chord_help
from nettui.tui.widgets.shell import NavBar, ReadOnlyBanner

if TYPE_CHECKING:
    from catalog.store import Store

USER_GROUP = "load-user"
OPERATOR_ROLES = (UserRole.OPERATOR, UserRole.APPROVER, UserRole.ADMIN)
APPROVER_ROLES = (UserRole.APPROVER, UserRole.ADMIN)


class ShellCommands(Provider):
    """The palette's commands: go to every area, and every command the current screen offers."""

    def _commands(self) -> list[ScreenCommand]:
        app: NettuiApp = self.app  # type: ignore[assignment]
        return list(app.palette_commands(self.screen))

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.title, command.callback, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), command.callback, help=command.help)


class PlaceholderScreen(Screen[None]):
    """An area that a later issue builds (or a screen whose module is not there yet)."""

    def __init__(self, store: Store, title: str, note: str) -> None:
        super().__init__()
        self.store = store
        self.area_title = title
        self.note = note

    def compose(self) -> ComposeResult:
        from textual.widgets import Footer, Static

        yield Header()
        yield Static(f"{self.area_title}\n\n{self.note}", id="placeholder", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.area_title


class EmbeddedEngine:
    """``nettui.engine.service.serve`` in a thread with its own event loop, so a busy engine
    never slows the UI. Stopping asks it to stop, then cancels what is still running (an
    execution left running is marked interrupted by the next engine that starts)."""

    def __init__(self, store: Store, on_event: Any) -> None:
        self.store = store
        self.on_event = on_event
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_event: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._main, name="nettui-embedded-engine", daemon=True)
        self.error: BaseException | None = None
        self.started = threading.Event()

    def start(self) -> None:
        self.thread.start()

    def _main(self) -> None:
        from nettui.engine.service import serve

        async def run() -> None:
            self.loop = asyncio.get_running_loop()
            self.stop_event = asyncio.Event()
            self.started.set()
            await serve(self.store, stop=self.stop_event, on_event=self.on_event, poll_s=0.5)

        try:
            asyncio.run(run())
        except BaseException as exc:  # reported in the status line; the UI stays up
            self.error = exc
            self.on_event(f"engine stopped: {type(exc).__name__}: {exc}")
        finally:
            self.started.set()

    def stop(self, grace_s: float = 1.0) -> None:
        """Ask the engine to stop; after ``grace_s``, cancel what still runs. Blocking."""
        if not self.thread.is_alive():
            return
        self.started.wait(5)
        loop, stop_event = self.loop, self.stop_event
        if loop is None or stop_event is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(stop_event.set)
        except RuntimeError:  # the loop closed meanwhile
            return
        self.thread.join(grace_s)
        if self.thread.is_alive():

            def cancel_everything() -> None:
                for task in asyncio.all_tasks():
                    task.cancel()

            try:
                loop.call_soon_threadsafe(cancel_everything)
            except RuntimeError:
                return
            self.thread.join(10)


class NettuiApp(App[None]):
    """The operator's workbench, opened on one store as one nettui user."""

    TITLE = "nettui"
    CSS_PATH = "nettui.tcss"
    COMMANDS: ClassVar[set[Any]] = {*App.COMMANDS, ShellCommands}
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
        Binding(
            "g",
            "chord",
            "Go to…",
            show=False,
            id="app.chord",
            tooltip=f"g then a letter opens an area; esc cancels: {chord_help()}.",
        ),
        *[
            Binding(
                area.key,
                f"go('{area.name}')",
                area.title,
                show=False,
                id=f"app.go.{area.name}",
                tooltip=f"Open {area.title}: {area.help}.",
            )
            for area in AREAS
            if area.key
        ],
    ]

    def __init__(
        self,
        store: Store,
        *,
        user: str | None = None,
        engine: bool = True,
        start: str = "home",
    ) -> None:
        if start not in AREAS_BY_NAME:
            raise ValueError(f"unknown screen {start!r}; one of {', '.join(AREAS_BY_NAME)}")
        # The first mode is the start screen, so the first paint is that screen, not a blank one.
        self.DEFAULT_MODE = start
        super().__init__()
        self.store = store
        self.user: str = user or getpass.getuser()
        """The nettui username everything is done as."""
        self.role: UserRole | None = None
        """The user's role; None while loading, or when the user is unknown or inactive."""
        self.user_checked = False
        self.engine_wanted = engine
        self.engine_state = "starting" if engine else "off"
        self.engine_log: deque[str] = deque(maxlen=200)
        self.engine: EmbeddedEngine | None = None
        self.status_signal: Signal[NettuiApp] = Signal(self, "nettui-status")
        for area in AREAS:
            self.add_mode(area.name, partial(self._make_screen, area.name))
        self.settings_problem = ""
        """Why the saved settings could not be used (said once the app runs), or ""."""
        self._apply_saved_theme()
        self._theme_at_start = self.theme

    # -- screens ----------------------------------------------------------------------------

    def _make_screen(self, name: str) -> Screen[Any]:
        area = AREAS_BY_NAME[name]
        if area.placeholder:
            return PlaceholderScreen(self.store, area.title, f"{area.help}. Not built yet.")
        try:
            return screen_class(name)(self.store)  # type: ignore[call-arg]
        except MissingScreen:
            return PlaceholderScreen(self.store, area.title, f"{area.help}. This screen is not built yet.")

    def get_default_screen(self) -> Screen[Any]:
        return self._make_screen(self.DEFAULT_MODE)

    async def on_mount(self) -> None:
        self._add_chrome(self.screen, self.current_mode)
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        if self.settings_problem:
            self.notify(self.settings_problem, title="Settings", severity="warning", markup=False, timeout=10)
        self.load_user()
        if self.engine_wanted:
            self.engine = EmbeddedEngine(self.store, self._engine_said)
            self.engine.start()
            self.engine_state = "on"
        self.status_signal.publish(self)

    def _add_chrome(self, screen: Screen[Any], area: str) -> None:
        """The navigation bar and the read-only banner, once, first in a top-level screen
        (docked widgets such as the header stay where they are)."""
        if screen.query(NavBar):
            return
        screen.mount(NavBar(area), ReadOnlyBanner(), before=0)

    async def action_go(self, name: str) -> None:
        """Open the area ``name`` (its screen stack as the operator left it)."""
        if name not in AREAS_BY_NAME:
            self.notify(f"no screen '{name}'", severity="error")
            return
        await self.switch_mode(name)
        base = self._screen_stacks[name][0]
        self._add_chrome(base, name)

    def go(self, name: str) -> None:
        """Open the area ``name``, from code that cannot await."""
        self.call_next(self.action_go, name)

    def action_chord(self) -> None:
        """``g``: wait for the letter of an area (see ``nettui.tui.widgets.chords``)."""
        if isinstance(self.screen, ModalScreen):
            return  # a dialog wants an answer first

        def picked(name: str | None) -> None:
            if name:
                self.go(name)

        self.push_screen(ChordScreen(), picked)

    # -- settings remembered per user -------------------------------------------------------

    def _apply_saved_theme(self) -> None:
        from nettui.tui.settings import SettingsError, load_settings

        try:
            saved = load_settings(self.user).theme
        except SettingsError as exc:
            self.settings_problem = str(exc)
            return
        if saved is None or saved == self.theme:
            return
        if saved not in self.available_themes:
            self.settings_problem = (
                f"The theme '{saved}' you chose last is not available here; using '{self.theme}'."
                " Pick another with ctrl+p, Change theme."
            )
            return
        self.theme = saved

    def _remember_theme(self, theme: Any) -> None:
        """Keep the theme the user picked for the next run (``nettui.tui.settings``)."""
        from nettui.tui.settings import SettingsError, TuiSettings, load_settings, save_settings

        try:
            settings = load_settings(self.user)
        except SettingsError:
            settings = TuiSettings()  # an unreadable file is replaced by a good one
        if settings.theme == theme.name or (settings.theme is None and theme.name == self._theme_at_start):
            return  # nothing new to remember (and no file written for a user who never chose)
        try:
            save_settings(self.user, replace(settings, theme=theme.name))
        except OSError as exc:
            self.notify(
                f"Cannot remember the theme: {exc}", title="Settings", severity="warning", markup=False, timeout=10
            )

    def open_execution(self, execution_id: int) -> None:
        """Show one execution (live) over whatever screen is open."""
        from nettui.tui.screens.executions import ExecutionDetailScreen

        self.push_screen(ExecutionDetailScreen(self.store, execution_id))

    # -- who is asking ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group=USER_GROUP, description="reading the user")
    def load_user(self) -> UserRole | None:
        from catalog.users import find_user

        with self.store.read_session() as session:
            found = find_user(session, self.user)
            return found.role if found is not None and found.is_active else None

    @on(Worker.StateChanged)
    def _user_loaded(self, event: Worker.StateChanged) -> None:
        if event.worker.group != USER_GROUP:
            return
        if event.state == WorkerState.SUCCESS:
            self.role = event.worker.result
            self.user_checked = True
            self.status_signal.publish(self)
            self.refresh_bindings()
            for screen in self.screen_stack:
                screen.refresh_bindings()
        elif event.state == WorkerState.ERROR:
            self.user_checked = True
            self.notify(
                f"{event.worker.error}\nCheck the store with: nettui db status",
                title="Could not read the user from the store",
                severity="error",
                markup=False,
            )
            self.status_signal.publish(self)

    @property
    def read_only(self) -> bool:
        """Whether the user cannot change anything (unknown, inactive, or a viewer)."""
        return self.role is None or self.role == UserRole.VIEWER

    @property
    def can_operate(self) -> bool:
        """Whether the user may run, re-run, cancel their own, pause and resume."""
        return self.role in OPERATOR_ROLES

    @property
    def can_approve(self) -> bool:
        return self.role in APPROVER_ROLES

    def status_text(self) -> str:
        """The status: user and role, engine (the store is in the header)."""
        if not self.user_checked:
            who = f"{self.user} (…)"
        elif self.role is None:
            who = f"{self.user} (read-only)"
        else:
            who = f"{self.user} ({self.role.value})"
        engine = {"on": "engine ● on", "off": "engine ○ off", "starting": "engine …"}.get(
            self.engine_state, f"engine ✖ {self.engine_state}"
        )
        return f"{who} · {engine}"

    def read_only_text(self) -> str:
        """Why the user cannot change anything, or "" when they can."""
        if not self.user_checked:
            return ""
        if self.role is None:
            return (
                f"Read-only: '{self.user}' is not an active nettui user, so nothing can be run, approved or"
                f" changed from here. An admin adds you with: nettui users add {self.user} --role operator"
            )
        if self.role == UserRole.VIEWER:
            return f"Read-only: '{self.user}' is a viewer; an admin can give you another role."
        return ""

    def _engine_said(self, text: str) -> None:
        """What the embedded engine reports, from its thread."""
        try:
            self.call_from_thread(self._engine_event, text)
        except RuntimeError:  # the app has closed, or this is the app's own thread
            self.engine_log.append(text)

    def _engine_event(self, text: str) -> None:
        self.engine_log.append(text)
        if text.startswith("engine stopped"):
            self.engine_state = "stopped"
            self.notify(text, title="The embedded engine stopped", severity="error", markup=False)
            self.status_signal.publish(self)

    def _running_here(self) -> int:
        """How many executions the embedded engine of this process runs now."""
        from sqlalchemy import func, select

        from catalog import models as m
        from catalog.models.choices import ExecutionStatus
        from nettui.engine.runner import process_owner

        with self.store.read_session() as session:
            count = session.scalar(
                select(func.count())
                .select_from(m.Execution)
                .where(m.Execution.status == ExecutionStatus.RUNNING, m.Execution.owner == process_owner())
            )
            return int(count or 0)

    async def action_quit(self) -> None:
        """Leave nettui; asks first when the embedded engine is running executions."""
        running = 0
        if self.engine is not None:
            try:
                running = await asyncio.to_thread(self._running_here)
            except Exception:  # a store that cannot be read must not keep the user in
                running = 0
        if not running:
            self.exit()
            return
        from nettui.tui.widgets.dialogs import ConfirmDialog

        question = (
            f"{running} execution(s) run in this window's engine. Quitting interrupts them; they are marked"
            " failed (interrupted) when an engine starts next. Quit anyway?"
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(ConfirmDialog("Quit nettui", question, confirm="Quit"), answered)

    async def on_unmount(self) -> None:
        await self.stop_engine()

    async def stop_engine(self) -> None:
        if self.engine is not None:
            engine, self.engine = self.engine, None
            await asyncio.to_thread(engine.stop)
            self.engine_state = "off"

    # -- palette and help -------------------------------------------------------------------

    def palette_commands(self, screen: Screen[Any]) -> Iterator[ScreenCommand]:
        """Everything the palette offers from ``screen``: every area, then the screen's own."""
        for area in AREAS:
            suffix = " (not built yet)" if area.placeholder else ""
            yield ScreenCommand(f"Go to {area.title}", area.help + suffix, partial(self.go, area.name))
        offered: Iterable[Any] = ()
        commands = getattr(screen, "commands", None)
        if callable(commands):
            offered = commands()
        for command in offered:
            yield ScreenCommand(*command)

    def action_toggle_help(self) -> None:
        """Open the key help panel, or close it if it is open."""
        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()
