"""A store holding the built-in library and a running lab's devices, as tests that push
through the engine need it (credentials as environment references, one site, user 'ops')."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from catalog import models as m
from catalog.models.choices import InterfaceMode
from catalog.store import Store
from catalog.sync import LIBRARY_DIR, import_catalog
from nettui.lab import LabThread

InterfaceSpec = tuple[str, InterfaceMode | None, str | None]  # name, mode, address


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
    monkeypatch.setenv("LAB_USERNAME", "admin")
    monkeypatch.setenv("LAB_PASSWORD", password)
    monkeypatch.setenv("LAB_ENABLE", enable_secret)
    import_catalog(store, [LIBRARY_DIR])
    with store.session() as session:
        group = m.SecretsGroup(
            name="lab",
            entries=[
                m.SecretsGroupEntry(name="username", backend="env", reference="LAB_USERNAME"),
                m.SecretsGroupEntry(name="password", backend="env", reference="LAB_PASSWORD"),
                m.SecretsGroupEntry(name="enable_secret", backend="env", reference="LAB_ENABLE"),
            ],
        )
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
