"""YAML files that remember where things are, so every error can say ``file:line``.

``load_yaml`` reads YAML safely (plain data only, never Python objects). Every mapping comes
back as a :class:`YamlMap` and every sequence as a :class:`YamlList`: ordinary ``dict`` and
``list`` objects that also know the line they start on and the line of each key or item.
Lines are 1-based, as editors show them.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from catalog.errors import NettuiError

# The C parser is several times faster on big files; the constructor stays in Python either way,
# so both give the same objects with the same lines.
_SafeLoaderBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlMap(dict[Any, Any]):
    """A mapping read from YAML, with the line it starts on and the line of each key."""

    line: int
    key_lines: dict[Any, int]

    def __init__(self, *args: Any, line: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        self.key_lines = {}

    def line_of(self, key: Any) -> int:
        """The line of ``key``, or of the mapping itself when the key is absent."""
        return self.key_lines.get(key, self.line)


class YamlList(list[Any]):
    """A sequence read from YAML, with the line it starts on and the line of each item."""

    line: int
    item_lines: list[int]

    def __init__(self, items: Iterable[Any] = (), *, line: int = 0) -> None:
        super().__init__(items)
        self.line = line
        self.item_lines = []

    def line_of(self, index: int) -> int:
        """The line of item ``index``, or of the sequence itself when there is no such item."""
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


def line_of(node: Any, path: Iterable[Hashable] = ()) -> int | None:
    """The most precise line known for ``path`` (keys and indexes) below ``node``.

    Walks as far down the path as the data goes and returns the line of the last step found,
    so an error about a key that is missing still points at the mapping that lacks it.
    ``None`` when ``node`` did not come from :func:`load_yaml`.
    """
    line: int | None = getattr(node, "line", None)
    for step in path:
        in_map = isinstance(node, YamlMap) and step in node
        in_list = isinstance(node, YamlList) and isinstance(step, int) and 0 <= step < len(node)
        if not (in_map or in_list):
            break
        line = node.line_of(step)
        node = node[step]
    return line


class LineLoader(_SafeLoaderBase):  # type: ignore[misc,valid-type]
    """A safe loader whose mappings and sequences carry their source lines, and which refuses
    duplicate keys (PyYAML would silently keep the last one, hiding a typo)."""


def _construct_map(loader: LineLoader, node: yaml.MappingNode) -> Iterator[YamlMap]:
    mapping = YamlMap(line=node.start_mark.line + 1)
    yield mapping  # yielded empty first so that recursive (anchored) structures work
    _refuse_duplicate_keys(loader, node)
    loader.flatten_mapping(node)  # resolves "<<" merge keys; merged pairs come first
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=False)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark, "this key cannot be a list or mapping", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=False)
        mapping.key_lines[key] = key_node.start_mark.line + 1


def _refuse_duplicate_keys(loader: LineLoader, node: yaml.MappingNode) -> None:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=False)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key]})", key_node.start_mark
            )
        seen[key] = line


def _construct_seq(loader: LineLoader, node: yaml.SequenceNode) -> Iterator[YamlList]:
    items = YamlList(line=node.start_mark.line + 1)
    yield items
    items.extend(loader.construct_object(child, deep=False) for child in node.value)
    items.item_lines = [child.start_mark.line + 1 for child in node.value]


LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def parse_yaml(text: str, source: str = "<string>") -> Any:
    """Parse YAML ``text``; ``source`` names it in error messages (``source:line``)."""
    try:
        return yaml.load(text, Loader=LineLoader)  # noqa: S506 - LineLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = exc.problem or exc.context or "invalid YAML"
        if isinstance(exc, yaml.constructor.ConstructorError):
            # Well-formed YAML that is not plain data: a duplicate key, a Python tag, a list as a key.
            raise NettuiError(problem, where=where) from None
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        raise NettuiError(
            f"YAML syntax error: {problem}{context}",
            where=where,
            hint="check the indentation and quoting on that line and the one before it",
        ) from None
    except yaml.YAMLError as exc:
        raise NettuiError(f"cannot read YAML: {exc}", where=source) from None


def load_yaml(path: str | Path) -> Any:
    """Read the YAML file at ``path``; errors name the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NettuiError("no such file", where=str(path)) from None
    except UnicodeDecodeError as exc:
        raise NettuiError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", where=str(path)) from None
    except OSError as exc:
        raise NettuiError(f"cannot read the file: {exc.strerror}", where=str(path)) from None
    return parse_yaml(text, str(path))
