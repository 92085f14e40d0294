"""Sessions: the bastion's recorded device sessions, and a player for their recordings.

The list updates live (active sessions first come and go); an admin terminates an active one.
The player replays the asciicast through a terminal emulator (pyte): play and pause, speed,
seek, and the commands typed beside it, each jumping to its moment.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from catalog.errors import NettuiError
from catalog.models.choices import UserRole
from nettui.tui.screens import ScreenCommand
from nettui.tui.screens.executions import PolledScreen, describe_error
from nettui.tui.widgets.badges import local_time, status_text
from nettui.tui.widgets.dialogs import ConfirmDialog
from nettui.tui.widgets.tables import FilterableTable, LiveTable, Row

if TYPE_CHECKING:
    from catalog.store import Store
    from nettui.tui.app import NettuiApp

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
TICK_S = 0.05
SEEK_S = 5.0


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    user: str
    device: str
    session_type: str
    status: str
    start: datetime | None
    end: datetime | None
    commands: int

    @property
    def search(self) -> str:
        return "\x00".join((f"#{self.id}", self.user, self.device, self.session_type, self.status))


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def load_sessions(store: Store) -> list[SessionRow]:
    """The latest sessions, active ones first. Blocking."""
    from bastion.sessions import list_sessions

    rows = [
        SessionRow(
            id=int(s["id"]),
            user=str(s["user"]),
            device=str(s["device"]),
            session_type=str(s["session_type"]),
            status=str(s["status"]),
            start=_when(s["session_start"]),
            end=_when(s["session_end"]),
            commands=int(s["commands"]),
        )
        for s in list_sessions(store)
    ]
    rows.sort(key=lambda r: (r.status != "active", -r.id))
    return rows


class SessionsScreen(PolledScreen):
    """Recorded sessions (an admin sees everyone's, others their own); Enter plays one back;
    `t` terminates an active one (admins)."""

    AUTO_FOCUS = "#sessions LiveTable"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "play", "Play", id="sessions.play", tooltip="Play the selected session's recording."),
        Binding(
            "t", "terminate", "Terminate", id="sessions.terminate", tooltip="End the selected active session (admins)."
        ),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.rows: list[SessionRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterableTable(
            [
                ("id", "ID"),
                ("user", "USER"),
                ("device", "DEVICE"),
                ("type", "TYPE"),
                ("status", "STATUS"),
                ("start", "STARTED"),
                ("end", "ENDED"),
                ("commands", "COMMANDS"),
            ],
            placeholder="filter by user, device or status",
            empty_text="No sessions yet. Engineers reach devices with: ssh -p 2222 USER%DEVICE@BASTION",
            id="sessions",
        )
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Sessions through the bastion"

    def read(self) -> list[SessionRow]:
        """Admins see every session; anyone else only their own (a recording is an audit record)."""
        app: NettuiApp = self.app  # type: ignore[assignment]
        rows = load_sessions(self.store)
        return rows if app.role == UserRole.ADMIN else [r for r in rows if r.user == app.user]

    def show(self, data: list[SessionRow]) -> None:
        self.rows = data
        table = self.query_one("#sessions", FilterableTable)
        table.set_rows(
            [
                Row(
                    str(r.id),
                    (
                        Text(f"#{r.id}", style="bold"),
                        Text(r.user),
                        Text(r.device),
                        Text(r.session_type),
                        status_text(self.app, {"active": "running"}.get(r.status, r.status)),
                        Text(local_time(r.start)),
                        Text(local_time(r.end) or "—", style="" if r.end else "dim"),
                        Text(str(r.commands)),
                    ),
                    search=r.search,
                )
                for r in data
            ]
        )
        active = sum(r.status == "active" for r in data)
        table.table.border_subtitle = f"{len(data)} session(s), {active} active"
        self.refresh_bindings()

    def selected(self) -> SessionRow | None:
        key = self.query_one("#sessions LiveTable", LiveTable).current_key
        return next((r for r in self.rows if str(r.id) == key), None)

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.refresh_bindings()

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_play()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        row = self.selected()
        if action == "play":
            return row is not None
        if action == "terminate":
            app: NettuiApp = self.app  # type: ignore[assignment]
            return row is not None and row.status == "active" and app.role == UserRole.ADMIN
        return True

    def action_play(self) -> None:
        """Play the selected session's recording."""
        row = self.selected()
        if row is not None:
            self.app.push_screen(SessionPlayerScreen(self.store, row.id))

    def action_terminate(self) -> None:
        """End the selected active session, after asking."""
        row = self.selected()
        if row is None or not self.check_action("terminate", ()):
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._terminate(row.id)

        self.app.push_screen(
            ConfirmDialog(
                f"Terminate session #{row.id}?",
                f"{row.user} on {row.device}: the bastion closes it within a second.",
                confirm="Terminate",
            ),
            confirmed,
        )

    @work(thread=True, exit_on_error=False, group="session-terminate", description="terminating")
    def _terminate(self, session_id: int) -> None:
        from bastion.sessions import terminate_session

        app: NettuiApp = self.app  # type: ignore[assignment]
        try:
            status = terminate_session(self.store, session_id, app.user)
        except Exception as exc:  # a refusal or a store error: said, not fatal
            self.app.call_from_thread(self.notify, describe_error(exc), title="Not terminated", severity="error")
            return
        self.app.call_from_thread(self.notify, f"session #{session_id}: {status}", title="Session")
        self.app.call_from_thread(self.poll)

    def commands(self) -> list[ScreenCommand]:
        row = self.selected()
        out = []
        if row is not None:
            out.append(ScreenCommand(f"Play session #{row.id}", f"{row.user} on {row.device}", self.action_play))
        if row is not None and self.check_action("terminate", ()):
            out.append(ScreenCommand(f"Terminate session #{row.id}", "Admins only", self.action_terminate))
        return out


class Recording:
    """A recording loaded for playback: output and resize events in time order, and the
    terminal emulator they are replayed through."""

    def __init__(self, header: dict[str, Any], events: list[tuple[float, str, str]]) -> None:
        import pyte

        self.header = header
        self.width, self.height = int(header.get("width", 80)), int(header.get("height", 24))
        self.events = [(t, kind, data) for t, kind, data in events if kind in ("o", "r")]
        self.times = [t for t, _, _ in self.events]
        self.duration = self.times[-1] if self.times else 0.0
        self.screen = pyte.Screen(self.width, self.height)
        self.stream = pyte.Stream(self.screen)
        self.applied = 0  # events fed so far
        self.position = 0.0

    def seek(self, position: float) -> None:
        """Show the terminal as it was at ``position`` seconds."""
        position = min(max(position, 0.0), self.duration)
        if position < self.position:  # backwards: replay from the start
            self.screen.reset()
            self.screen.resize(self.height, self.width)
            self.applied = 0
        upto = bisect.bisect_right(self.times, position)
        for _, kind, data in self.events[self.applied : upto]:
            if kind == "o":
                self.stream.feed(data)
            else:
                columns, _, rows = data.partition("x")
                if columns.isdigit() and rows.isdigit():
                    self.screen.resize(int(rows), int(columns))
        self.applied = max(self.applied, upto)
        self.position = position

    def display(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)


class SessionPlayerScreen(Screen[None]):
    """One recording played back, with the commands typed beside it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle", "Play/pause", id="player.toggle", tooltip="Play or pause the recording."),
        Binding("right", "seek(5)", "+5 s", id="player.forward", tooltip="Jump five seconds ahead.", priority=True),
        Binding("left", "seek(-5)", "-5 s", id="player.back", tooltip="Jump five seconds back.", priority=True),
        Binding("plus,equals_sign", "speed(1)", "Faster", id="player.faster", tooltip="Play faster."),
        Binding("minus", "speed(-1)", "Slower", id="player.slower", tooltip="Play slower."),
        Binding("r", "restart", "Restart", id="player.start", tooltip="Back to the beginning."),
        Binding("escape", "back", "Back", id="player.back_to_list", tooltip="Back to the sessions."),
    ]

    def __init__(self, store: Store, session_id: int) -> None:
        super().__init__()
        self.store = store
        self.session_id = session_id
        self.recording: Recording | None = None
        self.command_times: list[float] = []
        self.speed_index = SPEEDS.index(1.0)
        self.playing = False
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="player"):
            with Vertical(id="player-terminal"):
                yield Static("loading the recording…", id="player-screen")
                yield Static("", id="player-status")
            yield OptionList(id="player-commands")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"Session #{self.session_id}"
        self.query_one("#player-commands", OptionList).border_title = "Commands"
        self._load_recording()

    @work(thread=True, exit_on_error=False, description="loading the recording")
    def _load_recording(self) -> None:
        from bastion.recording import read_asciicast
        from bastion.sessions import get_session

        app: NettuiApp = self.app  # type: ignore[assignment]
        try:
            record = get_session(self.store, self.session_id)
            if record["user"] != app.user and app.role != UserRole.ADMIN:
                raise NettuiError(f"session #{self.session_id} is {record['user']}'s: only admins play others'")
            if not record.get("recording_path"):
                raise FileNotFoundError("this session has no recording (it was refused before it started)")
            header, events = read_asciicast(Path(record["recording_path"]))
        except Exception as exc:
            self.app.call_from_thread(self._recording_failed, describe_error(exc))
            return
        self.app.call_from_thread(self._recording_loaded, record, header, events)

    def _recording_failed(self, why: str) -> None:
        self.query_one("#player-screen", Static).update(Text(why, style="red"))

    def _recording_loaded(
        self, record: dict[str, Any], header: dict[str, Any], events: list[tuple[float, str, str]]
    ) -> None:
        self.recording = Recording(header, events)
        self.sub_title = f"Session #{record['id']}: {record['user']} on {record['device']} ({record['status']})"
        start = float(header.get("timestamp", 0))
        options = self.query_one("#player-commands", OptionList)
        options.clear_options()
        self.command_times = []
        for index, command in enumerate(record.get("commands_executed") or []):
            at = _offset(command.get("timestamp"), start)
            self.command_times.append(at)
            label = Text.assemble((f"{at:6.1f}s  ", "dim"), str(command.get("command", "")))
            options.add_option(Option(label, id=str(index)))
        self._show_frame()
        self.action_toggle()

    # -- playback -----------------------------------------------------------------------------------

    def _show_frame(self) -> None:
        if self.recording is None:
            return
        self.query_one("#player-screen", Static).update(Text(self.recording.display()))
        state = "▶ playing" if self.playing else "⏸ paused"
        self.query_one("#player-status", Static).update(
            f"{state}  {self.recording.position:6.1f} / {self.recording.duration:.1f} s"
            f"  ·  speed {SPEEDS[self.speed_index]:g}x"
            "  ·  space play/pause, ←/→ seek, +/- speed, r restart, enter on a command jumps to it"
        )

    def _advance(self) -> None:
        if self.recording is None:
            return
        self.recording.seek(self.recording.position + TICK_S * SPEEDS[self.speed_index])
        if self.recording.position >= self.recording.duration:
            self._halt()
        self._show_frame()

    def _halt(self) -> None:
        self.playing = False
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def action_toggle(self) -> None:
        """Play or pause."""
        if self.recording is None:
            return
        if self.playing:
            self._halt()
        else:
            if self.recording.position >= self.recording.duration:
                self.recording.seek(0.0)
            self.playing = True
            self._timer = self.set_interval(TICK_S, self._advance)
        self._show_frame()

    def action_seek(self, seconds: float) -> None:
        """Jump ahead or back."""
        if self.recording is not None:
            self.recording.seek(self.recording.position + float(seconds))
            self._show_frame()

    def action_speed(self, step: int) -> None:
        """Faster or slower."""
        self.speed_index = min(max(self.speed_index + int(step), 0), len(SPEEDS) - 1)
        self._show_frame()

    def action_restart(self) -> None:
        """Back to the beginning."""
        self.jump(0.0)

    def jump(self, position: float) -> None:
        if self.recording is not None:
            self.recording.seek(position)
            self._show_frame()

    @on(OptionList.OptionSelected, "#player-commands")
    def _command_chosen(self, event: OptionList.OptionSelected) -> None:
        index = int(event.option.id or 0)
        if index < len(self.command_times):
            self.jump(self.command_times[index] + 0.5)  # just after it was typed: its output follows

    def action_back(self) -> None:
        self._halt()
        self.app.pop_screen()


def _offset(timestamp: Any, start: float) -> float:
    """Seconds from the recording's start to a command's ISO timestamp."""
    try:
        return max(0.0, datetime.fromisoformat(str(timestamp)).timestamp() - start)
    except ValueError:
        return 0.0
