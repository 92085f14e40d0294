"""Lab devices in a store, credentials as environment references: :func:`seed_lab_store` with
the built-in library, one site and the user 'ops', as tests that push through the engine need
it; :func:`add_lab_devices` with just the devices and their platforms, as the driver and
file-transfer tests need it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from catalog import models as m
from catalog.models.choices import InterfaceMode
from catalog.store import Store
from catalog.sync import LIBRARY_DIR, import_catalog
from nettui.lab import LabThread

InterfaceSpec = tuple[str, InterfaceMode | None, str | None]  # name, mode, address


def lab_secrets_group(
    monkeypatch: pytest.MonkeyPatch, *, password: str, enable_secret: str, env_prefix: str = "LAB"
) -> m.SecretsGroup:
    """A secrets group 'lab' reading ``{env_prefix}_USERNAME``/``_PASSWORD``/``_ENABLE``, which
    are set (for the test) to admin, ``password`` and ``enable_secret``."""
    values = {"username": ("USERNAME", "admin"), "password": ("PASSWORD", password)}
    values["enable_secret"] = ("ENABLE", enable_secret)
    entries = []
    for entry, (suffix, value) in values.items():
        variable = f"{env_prefix}_{suffix}"
        monkeypatch.setenv(variable, value)
        entries.append(m.SecretsGroupEntry(name=entry, backend="env", reference=variable))
    return m.SecretsGroup(name="lab", entries=entries)


def add_lab_devices(
    store: Store,
    lab: LabThread,
    monkeypatch: pytest.MonkeyPatch,
    *,
    password: str,
    enable_secret: str,
    env_prefix: str = "LAB",
) -> Store:
    """The lab's devices in ``store`` (a bare platform per lab platform, no library), with
    credentials from the environment (see :func:`lab_secrets_group`)."""
    with store.session() as session:
        group = lab_secrets_group(monkeypatch, password=password, enable_secret=enable_secret, env_prefix=env_prefix)
        platforms = {
            name: m.Platform(name=name, slug=name.replace("_", "-"), network_driver=name)
            for name in sorted({d.platform_name for d in lab.devices})
        }
        for device in lab.devices:
            session.add(
                m.Device(
                    name=device.name,
                    host=device.host,
                    ssh_port=device.port,
                    platform=platforms[device.platform_name],
                    secrets_group=group,
                )
            )
    return store


def seed_lab_store(
    store: Store,
    lab: LabThread,
    monkeypatch: pytest.MonkeyPatch,
    *,
    password: str,
    enable_secret: str,
    interfaces: dict[str, list[InterfaceSpec]] | None = None,
) -> Store:
    """Import the library; add the lab's devices (platforms from the library, manufacturer
    from the platform), a secrets group reading LAB_* variables, and the operator 'ops'."""
    import_catalog(store, [LIBRARY_DIR])
    with store.session() as session:
        group = lab_secrets_group(monkeypatch, password=password, enable_secret=enable_secret)
        site = m.Location(name="Lab", slug="lab")
        for device in lab.devices:
            platform = session.scalars(
                select(m.Platform).where(m.Platform.network_driver == device.platform_name)
            ).first()
            assert platform is not None and platform.manufacturer is not None
            row = m.Device(
                name=device.name,
                host=device.host,
                ssh_port=device.port,
                platform=platform,
                manufacturer=platform.manufacturer,
                location=site,
                secrets_group=group,
            )
            session.add(row)
            for name, mode, address in (interfaces or {}).get(device.platform_name, []):
                interface = m.Interface(device=row, name=name, mode=mode)
                session.add(interface)
                if address:
                    session.add(m.IPAddress(address=address, interface=interface))
        session.add(m.User(username="ops", role="operator"))
    return store
