"""The Nautobot provider against a real Nautobot 3.2 server started by tests/nautobot_harness.py.

The server tests are marked ``slow`` (they still run in CI) and FAIL when the harness cannot
start Nautobot: a skipped integration test would hide a broken harness. The first run on a machine
builds the harness's cache (about 5 minutes); later sessions start a server in seconds.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from catalog import models as m
from catalog.models.choices import SecretBackend
from catalog.secrets import Secret
from drivers.nautobot_provider import (
    NautobotAuthenticationError,
    NautobotError,
    NautobotGraphQLError,
    NautobotNotFound,
    NautobotProvider,
    NautobotRequestError,
    NautobotSettingsError,
    NautobotUnreachable,
    NautobotValidationError,
)
from drivers.redaction import MASK
from tests.nautobot_harness import NautobotServer, nautobot_fixture  # noqa: F401 (the session's server)

DEVICE_QUERY = """
query DeviceByName($name: [String]) {
  devices(name: $name) {
    name
    platform { name network_driver }
    location { name }
    role { name }
    status { name }
    interfaces { name description }
  }
}
"""


# -- fixtures ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    """What the session's seeding created: names and ids the tests look up."""

    suffix: str
    active: str  # the "Active" status id
    location: str
    platform: str
    device: str
    device_id: str
    interface_id: str


async def _seed(nb: NautobotProvider) -> Seed:
    """Location type and location, manufacturer, device type, platform, role, a device and an interface."""
    suffix = uuid.uuid4().hex[:8]
    active = await nb.get_one("extras", "statuses", name="Active")
    location_type = await nb.create(
        "dcim", "location-types", {"name": f"Site-{suffix}", "content_types": ["dcim.device"]}
    )
    location = await nb.create(
        "dcim",
        "locations",
        {"name": f"lab-{suffix}", "location_type": location_type["id"], "status": active["id"]},
    )
    manufacturer = await nb.create("dcim", "manufacturers", {"name": f"Cisco-{suffix}"})
    device_type = await nb.create(
        "dcim", "device-types", {"manufacturer": manufacturer["id"], "model": f"C9300-{suffix}"}
    )
    platform = await nb.create(
        "dcim",
        "platforms",
        {"name": f"ios-{suffix}", "manufacturer": manufacturer["id"], "network_driver": "cisco_ios"},
    )
    role = await nb.create("extras", "roles", {"name": f"access-{suffix}", "content_types": ["dcim.device"]})
    device = await nb.create(
        "dcim",
        "devices",
        {
            "name": f"sw-{suffix}",
            "device_type": device_type["id"],
            "location": location["id"],
            "role": role["id"],
            "status": active["id"],
            "platform": platform["id"],
        },
    )
    interface = await nb.create(
        "dcim",
        "interfaces",
        {
            "device": device["id"],
            "name": "GigabitEthernet1/0/1",
            "type": "1000base-t",
            "status": active["id"],
            "description": "uplink",
        },
    )
    return Seed(suffix, active["id"], location["name"], platform["name"], device["name"], device["id"], interface["id"])


@pytest.fixture(scope="session")
def seeded(nautobot: NautobotServer) -> Seed:
    """The session's lookups and device, created once through the provider (REST)."""

    async def run() -> Seed:
        async with NautobotProvider(nautobot.url, Secret(nautobot.token)) as nb:
            return await _seed(nb)

    return asyncio.run(run())


@pytest.fixture
def nb(nautobot: NautobotServer) -> NautobotProvider:
    """A fresh provider per test (each test runs on its own event loop)."""
    return NautobotProvider(nautobot.url, Secret(nautobot.token), timeout=30)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the with ends: nothing listens


def _full_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc)


# -- settings (no server) -----------------------------------------------------------------------------


def test_settings_are_checked_and_name_the_setting() -> None:
    with pytest.raises(NautobotSettingsError, match=r"settings\.url is missing"):
        NautobotProvider.from_settings("nb", {}, {"token": Secret("x" * 40)})
    with pytest.raises(NautobotSettingsError, match="user name or password"):
        NautobotProvider.from_settings("nb", {"url": "http://u:pw@127.0.0.1"}, {"token": Secret("x" * 40)})
    with pytest.raises(NautobotSettingsError, match="no token entry") as caught:
        NautobotProvider.from_settings("nb", {"url": "http://127.0.0.1"}, {}, credentials_group="nb-creds")
    assert "nb-creds" in str(caught.value)
    with pytest.raises(NautobotSettingsError, match=r"settings\.timeout"):
        NautobotProvider.from_settings(
            "nb", {"url": "http://127.0.0.1", "timeout": "fast"}, {"token": Secret("x" * 40)}
        )
    provider = NautobotProvider.from_settings("nb", {"url": "http://127.0.0.1:8080/api/"}, {"token": Secret("x" * 40)})
    assert provider.url == "http://127.0.0.1:8080"  # pynautobot adds /api itself


def test_unknown_app_is_refused_before_any_request() -> None:
    provider = NautobotProvider("http://127.0.0.1:9", Secret("y" * 40))
    with pytest.raises(NautobotRequestError, match="unknown Nautobot app"):
        asyncio.run(provider.get("nosuchapp", "devices"))
    with pytest.raises(NautobotRequestError, match="not an API endpoint name"):
        asyncio.run(provider.get("dcim", "../users"))
    with pytest.raises(NautobotRequestError, match="not an object id"):
        asyncio.run(provider.get_one("dcim", "devices", id="../../users/tokens"))


async def test_unreachable_url_raises_unreachable_with_the_path() -> None:
    token = "u" * 8 + uuid.uuid4().hex
    provider = NautobotProvider(f"http://127.0.0.1:{_closed_port()}", Secret(token), timeout=5)
    with pytest.raises(NautobotUnreachable) as caught:
        await provider.get("dcim", "devices", name="sw1")
    text = _full_text(caught.value)
    assert "/api/dcim/devices/" in text
    assert "Connection refused" in text
    assert token not in text
    with pytest.raises(NautobotUnreachable):
        await provider.graphql("{ devices { name } }")


# -- REST against the real server ---------------------------------------------------------------------


@pytest.mark.slow
async def test_status_answers(nb: NautobotProvider, nautobot: NautobotServer) -> None:
    async with nb:
        status = await nb.status()
    assert str(status.get("nautobot-version", "")).startswith("3.2")


@pytest.mark.slow
async def test_device_and_interface_read_back_through_rest_filters(nb: NautobotProvider, seeded: Seed) -> None:
    async with nb:
        devices = await nb.get("dcim", "devices", name=seeded.device)
        assert [d["name"] for d in devices] == [seeded.device]
        device = devices[0]
        assert device["id"] == seeded.device_id
        platform = await nb.get_one("dcim", "platforms", id=device["platform"]["id"])
        assert platform["network_driver"] == "cisco_ios"
        assert platform["network_driver_mappings"]["netmiko"] == "cisco_ios"
        interfaces = await nb.get("dcim", "interfaces", device=seeded.device)
        assert [(i["name"], i["description"]) for i in interfaces] == [("GigabitEthernet1/0/1", "uplink")]
        by_location = await nb.get("dcim", "devices", location=seeded.location)
        assert [d["name"] for d in by_location] == [seeded.device]


@pytest.mark.slow
async def test_get_one_raises_not_found_by_id_and_by_filters(nb: NautobotProvider, seeded: Seed) -> None:
    async with nb:
        with pytest.raises(NautobotNotFound) as by_id:
            await nb.get_one("dcim", "devices", id=str(uuid.uuid4()))
        assert "/api/dcim/devices/" in str(by_id.value)
        with pytest.raises(NautobotNotFound, match="no object matches name='no-such-device'"):
            await nb.get_one("dcim", "devices", name="no-such-device")


@pytest.mark.slow
async def test_update_returns_before_and_after_and_the_revert_restores(nb: NautobotProvider, seeded: Seed) -> None:
    async with nb:
        change = await nb.update(
            "dcim", "interfaces", seeded.interface_id, {"description": "to core-1", "status": seeded.active}
        )
        assert change["before"]["description"] == "uplink"
        assert change["after"]["description"] == "to core-1"
        assert change["revert"] == {"description": "uplink", "status": seeded.active}  # related objects by id
        now = await nb.get_one("dcim", "interfaces", id=seeded.interface_id)
        assert now["description"] == "to core-1"

        undone = await nb.update("dcim", "interfaces", seeded.interface_id, change["revert"])
        assert undone["after"]["description"] == "uplink"
        again = await nb.get_one("dcim", "interfaces", id=seeded.interface_id)
        assert again["description"] == "uplink"


@pytest.mark.slow
async def test_mode_and_untagged_vlan_change_reverts_to_unset(nb: NautobotProvider, seeded: Seed) -> None:
    """The "update Nautobot first" case: choice and related fields go back to what they were (unset)."""
    async with nb:
        vlan = await nb.create("ipam", "vlans", {"vid": 42, "name": f"v42-{seeded.suffix}", "status": seeded.active})
        change = await nb.update(
            "dcim", "interfaces", seeded.interface_id, {"mode": "access", "untagged_vlan": vlan["id"]}
        )
        assert change["after"]["mode"]["value"] == "access"
        assert change["after"]["untagged_vlan"]["id"] == vlan["id"]
        assert change["revert"] == {"mode": None, "untagged_vlan": None}
        await nb.update("dcim", "interfaces", seeded.interface_id, change["revert"])
        now = await nb.get_one("dcim", "interfaces", id=seeded.interface_id)
        assert now["mode"] is None and now["untagged_vlan"] is None


@pytest.mark.slow
async def test_create_and_delete(nb: NautobotProvider, seeded: Seed) -> None:
    async with nb:
        tag = await nb.create("extras", "tags", {"name": f"tmp-{seeded.suffix}", "content_types": ["dcim.device"]})
        await nb.delete("extras", "tags", tag["id"])
        assert await nb.get("extras", "tags", name=f"tmp-{seeded.suffix}") == []
        with pytest.raises(NautobotNotFound):
            await nb.delete("extras", "tags", tag["id"])


@pytest.mark.slow
async def test_validation_error_names_the_field(nb: NautobotProvider, seeded: Seed) -> None:
    async with nb:
        with pytest.raises(NautobotValidationError) as caught:
            await nb.create(
                "dcim",
                "interfaces",
                {"device": seeded.device_id, "name": "Gi9", "type": "no-such-type", "status": seeded.active},
            )
    error = caught.value
    assert error.status == 400
    assert "type" in error.fields
    assert "no-such-type" in " ".join(error.fields["type"])
    assert "type:" in str(error) and "POST /api/dcim/interfaces/" in str(error)


# -- GraphQL ------------------------------------------------------------------------------------------


@pytest.mark.slow
async def test_graphql_with_variables(nb: NautobotProvider, seeded: Seed) -> None:
    async with nb:
        data = await nb.graphql(DEVICE_QUERY, {"name": [seeded.device]})
    [device] = data["devices"]
    assert device["platform"] == {"name": seeded.platform, "network_driver": "cisco_ios"}
    assert device["location"]["name"] == seeded.location
    assert device["status"]["name"] == "Active"
    assert device["interfaces"][0]["name"] == "GigabitEthernet1/0/1"


@pytest.mark.slow
async def test_graphql_query_step_renders_variables_from_the_context(nb: NautobotProvider, seeded: Seed) -> None:
    action_config = {"query": DEVICE_QUERY, "variables": {"name": "{{ [device.name] }}"}}
    context: dict[str, Any] = {"device": {"name": seeded.device}}
    async with nb:
        data = await nb.graphql_query(action_config, context)
    assert [d["name"] for d in data["devices"]] == [seeded.device]


@pytest.mark.slow
async def test_graphql_syntax_error_carries_nautobots_message(nb: NautobotProvider, nautobot: NautobotServer) -> None:
    async with nb:
        with pytest.raises(NautobotGraphQLError) as caught:
            await nb.graphql("query Broken { devices { name ")
        error = caught.value
        assert error.messages, "Nautobot's messages are kept"
        assert "Syntax Error" in str(error)
        assert "query Broken" in str(error) or "Broken" in str(error)
        assert "/api/graphql/" in str(error)
        with pytest.raises(NautobotGraphQLError, match="no_such_field"):
            await nb.graphql("{ devices { no_such_field } }")


# -- authentication and secrets -----------------------------------------------------------------------


@pytest.mark.slow
async def test_bad_token_raises_authentication_error_with_a_hint(nautobot: NautobotServer) -> None:
    bad = "b" * 8 + uuid.uuid4().hex
    provider = NautobotProvider.from_settings(
        "lab-nautobot", {"url": nautobot.url}, {"token": Secret(bad)}, credentials_group="nautobot-creds"
    )
    async with provider:
        with pytest.raises(NautobotAuthenticationError) as caught:
            await provider.get("dcim", "devices")
        with pytest.raises(NautobotAuthenticationError):
            await provider.graphql("{ devices { name } }")
    text = _full_text(caught.value)
    assert "secrets group 'nautobot-creds'" in text
    assert "/api/dcim/devices/" in text
    assert caught.value.status in (401, 403)
    assert bad not in text
    # Not chained to requests' exception, whose request object holds the Authorization header.
    assert caught.value.__context__ is None and caught.value.__cause__ is None


@pytest.mark.slow
async def test_from_config_resolves_the_token_from_the_secrets_group(
    nautobot: NautobotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = m.SecretsGroup(
        name="nautobot-creds",
        entries=[m.SecretsGroupEntry(name="token", backend=SecretBackend.ENV, reference="TEST_NAUTOBOT_TOKEN")],
    )
    config = m.ProviderConfig(name="lab-nautobot", settings={"url": nautobot.url, "timeout": 20}, credentials=group)
    monkeypatch.delenv("TEST_NAUTOBOT_TOKEN", raising=False)
    with pytest.raises(NautobotSettingsError, match="TEST_NAUTOBOT_TOKEN"):
        NautobotProvider.from_config(config)
    monkeypatch.setenv("TEST_NAUTOBOT_TOKEN", nautobot.token)
    provider = NautobotProvider.from_config(config)
    assert nautobot.token not in repr(provider)
    async with provider:
        assert (await provider.status())["nautobot-version"]


@pytest.mark.slow
async def test_token_never_in_logs_or_exceptions(
    nb: NautobotProvider, nautobot: NautobotServer, seeded: Seed, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's included
    texts: list[str] = [repr(nb)]
    async with nb:
        await nb.get("dcim", "devices", name=seeded.device)
        await nb.graphql(DEVICE_QUERY, {"name": [seeded.device]})
        failing: list[Callable[[], Awaitable[Any]]] = [
            lambda: nb.graphql("{ nope }"),
            lambda: nb.get_one("dcim", "devices", id=str(uuid.uuid4())),
            lambda: nb.create("dcim", "devices", {"name": "incomplete"}),
        ]
        for call in failing:
            with pytest.raises(NautobotError) as caught:
                await call()
            texts.append(_full_text(caught.value))
    # A log line that did carry the token would have been masked by drivers.redaction.
    logging.getLogger("tests.nautobot").debug("the header was Token %s", nautobot.token)
    assert MASK in caplog.text
    assert nautobot.token not in caplog.text
    for text in texts:
        assert nautobot.token not in text
    assert caplog.records, "DEBUG logging was captured"
