"""Configuration text and diffs, highlighted: what a step sent, what a change will add."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pygments.lexer import RegexLexer, bygroups
from pygments.token import Comment, Keyword, Name, Number, String, Text, Whitespace
from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text as RichText


class NetworkConfigLexer(RegexLexer):
    """Enough of IOS, NX-OS, EOS and Junos set-style configuration to make it readable:
    comments, ``no``, the leading command word, interface names, addresses, numbers."""

    name = "Network configuration"
    aliases: ClassVar[list[str]] = ["netconfig"]
    tokens: ClassVar[dict[str, Any]] = {
        "root": [
            (r"^\s*[!#].*$", Comment),
            (r"^(\s*)(no|default)(\s+)", bygroups(Whitespace, Keyword.Pseudo, Whitespace)),
            (r"^(\s*)(set|delete|deactivate)(\s+)", bygroups(Whitespace, Keyword.Pseudo, Whitespace)),
            (r"^(\s*)([a-z][\w-]*)", bygroups(Whitespace, Keyword)),
            (r'"[^"\n]*"', String),
            (r"\b\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?\b", Number.Hex),
            (r"\b[0-9a-fA-F:]*::[0-9a-fA-F:]*(/\d{1,3})?", Number.Hex),
            (
                r"\b(?:[Ee]thernet|Gi(?:gabitEthernet)?|Te(?:nGigabitEthernet)?|Fa(?:stEthernet)?|"
                r"Eth|Et|Vlan|Loopback|Port-[Cc]hannel|Management|ge-|xe-|et-)[\w/.:-]*",
                Name.Class,
            ),
            (r"\b\d+\b", Number),
            (r"[^\S\n]+", Whitespace),
            (r"\n", Whitespace),
            (r".", Text),
        ]
    }


def config_syntax(text: str, *, theme: str = "ansi_dark") -> RenderableType:
    """Rendered configuration with highlighting (nothing shown as markup)."""
    if not text.strip():
        return RichText("(nothing rendered)", style="dim")
    return Syntax(text.rstrip("\n"), NetworkConfigLexer(), theme=theme, background_color="default", word_wrap=True)


def json_syntax(value: Any, *, theme: str = "ansi_dark") -> RenderableType:
    """A JSON value, indented and highlighted."""
    text = json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)
    return Syntax(text, "json", theme=theme, background_color="default", word_wrap=True)


def diff_renderable(lines: list[tuple[str, str]], *, theme: str = "ansi_dark") -> RenderableType:
    """(mark, line) pairs, mark "+" for a line the change adds and " " for one already there,
    as a highlighted diff."""
    if not lines:
        return RichText("(no lines)", style="dim")
    text = "\n".join(f"{mark}{line}" for mark, line in lines)
    return Syntax(text, "diff", theme=theme, background_color="default", word_wrap=True)


def titled(title: str, body: RenderableType) -> RenderableType:
    """A section: a bold title line, then its body."""
    return Group(RichText(title, style="bold underline"), body, RichText(""))
