"""The command line as a whole: fast help, every command reachable, errors without tracebacks."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from catalog.store import Store
from nettui.cli import LAZY_COMMANDS, main
from tests.conftest import run_cli


def test_help_lists_every_command_without_loading_them() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from nettui.cli import main\n"
        "out = CliRunner().invoke(main, ['--help']).output\n"
        "print(out)\n"
        "print('LOADED', sorted(m for m in ('sqlalchemy', 'alembic', 'textual') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for name in LAZY_COMMANDS:
        assert f"  {name} " in out
    assert "LOADED []" in out


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_the_help_line_is_the_command_s_own(name: str) -> None:
    module, summary = LAZY_COMMANDS[name]
    group = importlib.import_module(module).group
    assert summary == group.get_short_help_str(limit=200)


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_every_command_has_help(name: str) -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0 and "Usage: " in result.output


def test_the_tui_opens_as_another_user_only_for_an_admin(sqlite_store: Store) -> None:
    """`nettui --as bob` (the TUI as bob) is for admins; the refusals say why, no traceback."""
    import getpass

    from catalog import models as m

    with sqlite_store.session() as session:
        session.add(m.User(username=getpass.getuser(), role="operator"))
        session.add(m.User(username="bob", role="approver"))
    refused = run_cli(sqlite_store, "--as", "bob")
    assert refused.exit_code == 1 and "only an admin may act as another user" in refused.stderr
    misplaced = run_cli(sqlite_store, "--as", "bob", "inventory", "list")
    assert misplaced.exit_code == 2 and "give it after the command" in misplaced.stderr
    assert "Traceback" not in refused.output + misplaced.output
