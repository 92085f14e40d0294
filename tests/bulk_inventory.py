"""A big inventory in seconds: bulk INSERTs of plain rows (no ORM objects), for the tests and
the benchmark of the Inventory screen with 50,000 devices."""

from __future__ import annotations

from sqlalchemy import insert, select

from catalog.models import Device, DeviceRole, Location, Platform, Tag
from catalog.models.choices import DeviceStatus
from catalog.models.inventory import device_tags
from catalog.store import Store

PLATFORMS = [
    ("Cisco IOS", "cisco-ios", "cisco_ios"),
    ("Cisco NX-OS", "cisco-nxos", "cisco_nxos"),
    ("Arista EOS", "arista-eos", "arista_eos"),
    ("Juniper Junos", "juniper-junos", "juniper_junos"),
]
ROLES = ["access", "distribution", "core", "firewall"]
TAGS = ["pci", "critical", "monitored"]
SITES = 50
BATCH = 5000


def bulk_name(n: int) -> str:
    """The name of device ``n``: ``sw-SS-NNNNN``, SS its site."""
    return f"sw-{n % SITES:02d}-{n:05d}"


def site_name(site: int) -> str:
    return f"DC {site:02d}"


def bulk_status(n: int) -> DeviceStatus:
    return DeviceStatus.PLANNED if n % 17 == 0 else DeviceStatus.ACTIVE


def bulk_tags(n: int) -> list[str]:
    """Device ``n`` is tagged pci when n % 3 == 0, critical when n % 5 == 0, monitored when even."""
    return [tag for tag, every in zip(TAGS, (3, 5, 2), strict=True) if n % every == 0]


def add_bulk_devices(store: Store, count: int) -> None:
    """``count`` devices over 50 sites, four platforms and four roles, some planned, some tagged:
    device ``n`` is on platform ``n % 4`` with role ``n % 4`` at site ``n % 50``."""
    with store.session() as session:
        session.execute(insert(Platform), [{"name": n, "slug": s, "network_driver": d} for n, s, d in PLATFORMS])
        session.execute(insert(DeviceRole), [{"name": r, "slug": r} for r in ROLES])
        session.execute(insert(Location), [{"name": site_name(s), "slug": f"dc-{s:02d}"} for s in range(SITES)])
        session.execute(insert(Tag), [{"name": t, "slug": t} for t in TAGS])
        platforms = [session.scalar(select(Platform.id).where(Platform.slug == s)) for _, s, _ in PLATFORMS]
        roles = [session.scalar(select(DeviceRole.id).where(DeviceRole.slug == r)) for r in ROLES]
        sites = [session.scalar(select(Location.id).where(Location.name == site_name(s))) for s in range(SITES)]
        tags = {t: session.scalar(select(Tag.id).where(Tag.slug == t)) for t in TAGS}
        for start in range(0, count, BATCH):
            numbers = range(start, min(count, start + BATCH))
            session.execute(
                insert(Device),
                [
                    {
                        "name": bulk_name(n),
                        "host": f"10.{n % SITES}.{n // 250 % 256}.{n % 250 + 1}",
                        "platform_id": platforms[n % 4],
                        "role_id": roles[n % 4],
                        "location_id": sites[n % SITES],
                        "status": bulk_status(n),
                        "software_version": f"17.{n % 12}.{n % 5}",
                        "serial": f"FOC{n:08d}",
                    }
                    for n in numbers
                ],
            )
        ids: dict[str, int] = dict(session.execute(select(Device.name, Device.id)).all())
        links = [{"device_id": ids[bulk_name(n)], "tag_id": tags[tag]} for n in range(count) for tag in bulk_tags(n)]
        for start in range(0, len(links), BATCH * 2):
            session.execute(insert(device_tags), links[start : start + BATCH * 2])
