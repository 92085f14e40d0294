"""Sandboxed Jinja2 for templates, conditions and mappings: catalog content is data, never code.

Every render runs in a ``SandboxedEnvironment`` with ``StrictUndefined`` and under a budget:
a deadline, a cap on output size, a cap on loop iterations and on the size of values built
with ``*`` and ``**``. Breaking any of them stops the render with a :class:`RenderError`.
"""

from __future__ import annotations

import contextvars
import functools
import operator
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, Undefined, UndefinedError
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.nodes import Template as TemplateNode
from jinja2.sandbox import SandboxedEnvironment

from catalog.errors import NettuiError

DEFAULT_TIME_LIMIT_S = 2.0
DEFAULT_OUTPUT_LIMIT = 1_000_000  # characters
DEFAULT_ITERATION_LIMIT = 1_000_000
# How often (in sandbox operations) the deadline is read: the clock is cheap, not free.
_CLOCK_EVERY = 256


class RenderError(NettuiError):
    """A template, condition or mapping failed to parse or render."""


@dataclass
class RenderBudget:
    """Limits for one render; the sandbox charges every operation to the current budget."""

    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    output_limit: int = DEFAULT_OUTPUT_LIMIT
    iteration_limit: int = DEFAULT_ITERATION_LIMIT
    deadline: float = field(default=0.0, init=False)
    operations: int = field(default=0, init=False)
    iterations: int = field(default=0, init=False)

    def start(self) -> None:
        self.deadline = time.monotonic() + self.time_limit_s
        self.operations = 0
        self.iterations = 0

    def tick(self) -> None:
        self.operations += 1
        if self.operations % _CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            raise SecurityError(f"rendering took longer than {self.time_limit_s:g} s")

    def iterate(self, count: int = 1) -> None:
        self.iterations += count
        if self.iterations > self.iteration_limit:
            raise SecurityError(f"more than {self.iteration_limit} loop iterations")
        self.tick()

    def check_size(self, value: Any) -> Any:
        if isinstance(value, str | bytes | list | tuple) and len(value) > self.output_limit:
            raise SecurityError(f"a value grew beyond {self.output_limit} items")
        return value


_budget: contextvars.ContextVar[RenderBudget | None] = contextvars.ContextVar("nettui_render_budget", default=None)


def _current() -> RenderBudget | None:
    return _budget.get()


def _bounded_range(*args: int) -> Iterator[int]:
    budget = _current()
    rng = range(*args)
    if budget is not None and len(rng) > budget.iteration_limit:
        raise SecurityError(f"range of {len(rng)} items is larger than {budget.iteration_limit}")
    for value in rng:
        if budget is not None:
            budget.iterate()
        yield value


def _safe_pow(base: Any, exponent: Any) -> Any:
    if isinstance(exponent, int | float) and abs(exponent) > 64:
        raise SecurityError("exponent larger than 64")
    return operator.pow(base, exponent)


def _safe_mul(left: Any, right: Any) -> Any:
    budget = _current()
    limit = budget.output_limit if budget else DEFAULT_OUTPUT_LIMIT
    for seq, n in ((left, right), (right, left)):
        if isinstance(seq, str | bytes | list | tuple) and isinstance(n, int) and len(seq) * n > limit:
            raise SecurityError(f"a value of {len(seq) * n} items is larger than {limit}")
    return operator.mul(left, right)


_DICT_ATTRIBUTES = frozenset(dir(dict))  # ``a.items`` on a dict is the method, as Jinja has it


class NettuiSandbox(SandboxedEnvironment):
    """The sandbox with budget accounting on attribute access, calls and operators."""

    intercepted_binops = frozenset({"*", "**"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        budget = _current()
        if budget is not None:
            budget.tick()
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            # What Jinja does for ``a.b`` on a dict, without first failing getattr(a, "b"):
            # contexts are dicts, and the failed lookup and its exception cost most of a render.
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        budget = _current()
        if budget is not None:
            budget.tick()
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = _current()
        if budget is not None:
            budget.tick()
        result = super().call(__context, __obj, *args, **kwargs)
        return budget.check_size(result) if budget is not None else result

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "*":
            return _safe_mul(left, right)
        if operator_ == "**":
            return _safe_pow(left, right)
        return super().call_binop(context, operator_, left, right)


def _vlan_ranges(vlans: Any) -> str:
    """[10, 11, 12, 20] -> "10-12,20" (one line, as trunk allowed-vlan lists want it)."""
    from netutils.vlan import vlanlist_to_config

    return ",".join(vlanlist_to_config(sorted({int(v) for v in vlans}), min_grouping_size=3))


def _network_filters() -> dict[str, Callable[..., Any]]:
    """netutils helpers an operator reaches for in templates; nothing that does I/O or decrypts."""
    from netutils import interface, ip, mac, vlan

    return {
        "ipaddress_address": ip.ipaddress_address,
        "ipaddress_interface": ip.ipaddress_interface,
        "ipaddress_network": ip.ipaddress_network,
        "cidr_to_netmask": ip.cidr_to_netmask,
        "netmask_to_cidr": ip.netmask_to_cidr,
        "netmask_to_wildcardmask": ip.netmask_to_wildcardmask,
        "get_first_usable": ip.get_first_usable,
        "get_broadcast_address": ip.get_broadcast_address,
        "is_ip": ip.is_ip,
        "is_network": ip.is_network,
        "is_ip_within": ip.is_ip_within,
        "canonical_interface_name": interface.canonical_interface_name,
        "abbreviated_interface_name": interface.abbreviated_interface_name,
        "interface_range_expansion": interface.interface_range_expansion,
        "interface_range_compress": interface.interface_range_compress,
        "sort_interface_list": interface.sort_interface_list,
        "vlanlist_to_config": vlan.vlanlist_to_config,
        "vlanconfig_to_list": vlan.vlanconfig_to_list,
        "vlan_ranges": _vlan_ranges,
        "mac_to_format": mac.mac_to_format,
        "mac_normalize": mac.mac_normalize,
    }


def _address_only(value: str) -> str:
    """ "10.0.0.1/24" -> "10.0.0.1"."""
    return str(value).split("/", 1)[0]


def _prefix_length(value: str) -> int:
    return int(str(value).split("/", 1)[1])


def _netmask(value: str) -> str:
    """ "10.0.0.1/24" -> "255.255.255.0"."""
    from netutils.ip import cidr_to_netmask

    return str(cidr_to_netmask(_prefix_length(value)))


def make_environment() -> NettuiSandbox:
    """The one Jinja2 environment all of nettui renders with."""
    env = NettuiSandbox(
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["range"] = _bounded_range
    env.filters.update(_network_filters())
    env.filters.update({"address_only": _address_only, "prefix_length": _prefix_length, "netmask": _netmask})
    return env


ENVIRONMENT = make_environment()


def _flat_globals(template: Template) -> Template:
    """Jinja keeps a template's globals as a ChainMap over the environment's, and copies them
    into every render's context: iterating the ChainMap was half the cost of evaluating a
    short expression. The environment's globals are complete before anything compiles (see
    make_environment), so a plain dict holds the same names."""
    template.globals = dict(template.globals)
    return template


@functools.lru_cache(maxsize=1024)
def _compiled(source: str) -> Template:
    """Templates are compiled once per process: compiling costs far more than rendering."""
    return _flat_globals(ENVIRONMENT.from_string(source))


@functools.lru_cache(maxsize=1024)
def _compiled_expression(source: str) -> Any:
    expression = ENVIRONMENT.compile_expression(source, undefined_to_none=False)
    _flat_globals(expression._template)
    return expression


def check_template(source: str, *, where: str) -> TemplateNode:
    """Parse ``source``; a syntax error becomes a RenderError naming ``where`` and the line."""
    try:
        return ENVIRONMENT.parse(source)
    except TemplateSyntaxError as exc:
        raise RenderError(f"Jinja2 syntax error: {exc.message}", where=f"{where}, template line {exc.lineno}") from None


def check_expression(source: str, *, where: str) -> None:
    """Parse a condition or mapping expression (no braces) without evaluating it."""
    try:
        ENVIRONMENT.compile_expression(source)
    except TemplateSyntaxError as exc:
        raise RenderError(f"expression does not parse: {exc.message}", where=where) from None


# Globals and filters whose value is the same for the same arguments (lipsum, cycler and the
# random filter are not).
_PURE_GLOBALS = frozenset({"range", "dict", "namespace", "true", "false", "none", "True", "False", "None"})
_IMPURE_FILTERS = frozenset({"random", "shuffle"})


@functools.lru_cache(maxsize=1024)
def reads_only(source: str, names: frozenset[str]) -> bool:
    """Whether the template ``source`` reads no variable but ``names`` (and pure globals) and
    uses no random filter: its value is then the same wherever those names hold the same
    values (the runner resolves such a step input mapping once for all the devices). False
    when it does not parse: the render reports that."""
    from jinja2 import meta, nodes

    try:
        tree = ENVIRONMENT.parse(source)
    except TemplateSyntaxError:
        return False
    if meta.find_undeclared_variables(tree) - names - _PURE_GLOBALS:
        return False
    return not any(node.name in _IMPURE_FILTERS for node in tree.find_all(nodes.Filter))


def _run(render: Callable[[], Any], where: str, budget: RenderBudget | None) -> Any:
    budget = budget or RenderBudget()
    budget.start()
    token = _budget.set(budget)
    try:
        return render()
    except UndefinedError as exc:
        raise RenderError(f"undefined: {exc.message}", where=where) from None
    except SecurityError as exc:
        raise RenderError(f"refused by the sandbox: {exc}", where=where) from None
    except TemplateSyntaxError as exc:
        raise RenderError(f"Jinja2 syntax error: {exc.message}", where=f"{where}, template line {exc.lineno}") from None
    except TemplateError as exc:
        raise RenderError(f"template error: {exc}", where=where) from None
    except RecursionError:
        raise RenderError("refused by the sandbox: recursion too deep", where=where) from None
    except (TypeError, ValueError, ZeroDivisionError, KeyError, IndexError, AttributeError) as exc:
        raise RenderError(f"{type(exc).__name__}: {exc}", where=where) from None
    finally:
        _budget.reset(token)


def render_template(
    source: str, context: Mapping[str, Any], *, where: str = "template", budget: RenderBudget | None = None
) -> str:
    """Render ``source`` with ``context`` in the sandbox, within the budget."""

    def render() -> str:
        template = _compiled(source)
        budget_now = _current()
        assert budget_now is not None
        size = 0
        parts = []
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > budget_now.output_limit:
                raise SecurityError(f"output larger than {budget_now.output_limit} characters")
            budget_now.tick()
            parts.append(chunk)
        return "".join(parts)

    return str(_run(render, where, budget))


def evaluate(
    expression: str, context: Mapping[str, Any], *, where: str = "expression", budget: RenderBudget | None = None
) -> Any:
    """Evaluate a Jinja2 expression (``inputs.vlan > 1``) in the sandbox and return its value.

    A value written as a template (``{{ inputs.vlan }}``) is accepted too: the braces are
    stripped when the whole string is one expression.
    """
    text = expression.strip()
    if text.startswith("{{") and text.endswith("}}") and text.count("{{") == 1:
        text = text[2:-2].strip()

    def run() -> Any:
        value = _compiled_expression(text)(**context)
        if isinstance(value, Undefined):  # a missing or refused name: fail now, not later
            value._fail_with_undefined_error()
        return value

    return _run(run, where, budget)
