"""The command line as a whole: fast help, every command reachable, errors without tracebacks."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from nettui.cli import LAZY_COMMANDS, main


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
