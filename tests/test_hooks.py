"""The python_hook provider runs functions registered in the ``nettui.hooks`` entry point group,
and nothing else: a test plugin (a dist-info folder under tests/hookplugin put on sys.path)
registers the hooks, so importlib.metadata finds them without installing anything."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from catalog import models as m
from catalog.errors import StepSkipped
from catalog.models.choices import ImplementationType
from catalog.store import Store
from drivers.hooks import HookError, UnknownHook, registered_hooks, resolve_hook, run_action_hook, run_hook
from drivers.redaction import MASK, register

PLUGIN = Path(__file__).parent / "hookplugin"
SECRET = "Hook-Context-Pa55word-never-shown"


@pytest.fixture(autouse=True)
def plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test plugin's distribution on sys.path (syspath_prepend also clears the finders' caches)."""
    monkeypatch.syspath_prepend(str(PLUGIN))
    for name in ("nettui_test_hooks", "nettui_never_imported"):
        monkeypatch.delitem(sys.modules, name, raising=False)


def test_the_plugin_registers_hooks_and_only_its_group_counts() -> None:
    hooks = registered_hooks()
    assert {"echo", "async_echo", "fails", "leaks_secret", "not_callable", "broken_import", "clash"} <= set(hooks)
    assert hooks["echo"].value == "nettui_test_hooks:echo"
    # Another group of the same distribution is not a hook.
    assert "nettui-test-hooks-unrelated" not in hooks


async def test_a_registered_sync_hook_runs_off_the_event_loop() -> None:
    result = await run_hook("echo", {"device": "sw1"}, vlan=120)
    assert result["device"] == "sw1"
    assert result["kwargs"] == {"vlan": 120}
    # A blocking hook must not stall the loop: it ran in a worker thread.
    assert result["thread"] != threading.main_thread().name


async def test_a_registered_async_hook_is_awaited() -> None:
    # ``name`` reaches the hook: run_hook's own parameters are positional-only.
    result = await run_hook("async_echo", {"device": "sw2"}, name="x")
    assert result == {"device": "sw2", "kwargs": {"name": "x"}, "async": True}


@pytest.mark.parametrize(
    "name",
    [
        "os:system",
        "os.system",
        "builtins:eval",
        "subprocess:run",
        "nettui_test_hooks:echo",  # the target of a registered hook, but not its name
        "nettui_never_imported:run",  # importable from sys.path, never registered
        "",
    ],
)
async def test_unregistered_names_are_refused_without_importing_anything(name: str) -> None:
    with pytest.raises(UnknownHook) as caught:
        await run_hook(name, {"device": "sw1"})
    text = str(caught.value)
    if name:
        assert "not a registered hook" in text
        assert "registered hooks:" in text
        assert "echo" in text  # the operator is told what they could use instead
    assert "nettui_never_imported" not in sys.modules
    assert "nettui_test_hooks" not in sys.modules


async def test_a_failing_hook_gives_a_hook_error_without_a_chained_traceback() -> None:
    with pytest.raises(HookError) as caught:
        await run_hook("fails", {"password": SECRET})
    error = caught.value
    assert error.hook == "fails"
    assert "python hook 'fails'" in str(error)
    assert "RuntimeError: the hook gave up" in str(error)
    # The hook's frames (holding the context) are not reachable from the error.
    assert error.__cause__ is None
    assert error.__context__ is None


async def test_a_hook_that_skips_on_purpose_says_so_without_its_traceback() -> None:
    """StepSkipped passes through as itself (the engine records the step skipped, with the
    reason), and, like a failure, without the hook's frames."""
    with pytest.raises(StepSkipped) as caught:
        await run_hook("skips", {"password": SECRET, "device": "sw1"})
    assert caught.value.what == "nothing to do on sw1"
    assert caught.value.__cause__ is None and caught.value.__context__ is None


async def test_a_secret_in_a_hook_error_message_is_masked() -> None:
    register([SECRET])
    with pytest.raises(HookError) as caught:
        await run_hook("leaks_secret", {"password": SECRET})
    assert SECRET not in str(caught.value)
    assert MASK in str(caught.value)


async def test_broken_and_non_callable_registrations_are_reported() -> None:
    with pytest.raises(HookError, match="cannot be loaded from nettui_test_hooks_missing_module:anything"):
        await run_hook("broken_import", {})
    with pytest.raises(HookError, match="is not callable"):
        resolve_hook("not_callable")


async def test_a_name_two_packages_register_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGIN / "shadow"))
    with pytest.raises(HookError, match="registered by more than one package") as caught:
        await run_hook("clash", {})
    assert "nettui_shadow_hooks:other" in str(caught.value)
    assert "nettui_test_hooks:echo" in str(caught.value)
    # Names only one package registers still run.
    assert (await run_hook("echo", {"device": "sw1"}))["device"] == "sw1"


def _python_hook_implementation(store: Store, slug: str, action_config: dict[str, object]) -> dict[str, object]:
    """Store a python_hook implementation and read its action_config back, as the engine would."""
    with store.session() as session:
        vendor = m.Manufacturer(name="Acme", slug="acme")
        task = m.TaskDefinition(name="Allocate VLAN", slug="allocate-vlan")
        session.add(
            m.TaskImplementation(
                task=task,
                name=f"Allocate VLAN {slug}",
                slug=slug,
                manufacturer=vendor,
                implementation_type=ImplementationType.PYTHON_HOOK,
                action_config=action_config,
            )
        )
    with store.read_session() as session:
        impl = session.query(m.TaskImplementation).filter_by(slug=slug).one()
        assert impl.implementation_type is ImplementationType.PYTHON_HOOK
        return dict(impl.action_config)


async def test_a_catalog_python_hook_implementation_runs_the_hook_it_names(sqlite_store: Store) -> None:
    action_config = _python_hook_implementation(
        sqlite_store, "allocate-vlan-hook", {"hook": "async_echo", "kwargs": {"pool": "users"}}
    )
    result = await run_action_hook(action_config, {"device": "sw9"})
    assert result == {"device": "sw9", "kwargs": {"pool": "users"}, "async": True}


async def test_a_catalog_implementation_naming_a_dotted_path_is_refused(sqlite_store: Store) -> None:
    action_config = _python_hook_implementation(sqlite_store, "allocate-vlan-evil", {"hook": "os:system"})
    with pytest.raises(UnknownHook, match="not a registered hook"):
        await run_action_hook(action_config, {"device": "sw9"})
    with pytest.raises(UnknownHook, match=r"action_config\.hook is missing"):
        await run_action_hook({"kwargs": {}}, {})
    with pytest.raises(HookError, match="kwargs must be a mapping"):
        await run_action_hook({"hook": "echo", "kwargs": ["not", "a", "mapping"]}, {})
