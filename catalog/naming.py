"""Names: slugs for URLs and files, and platform network-driver names normalised by netutils.

>>> slugify("Core Switch / DC 1")
'core-switch-dc-1'
>>> slugify("Zürich_HQ")
'zurich_hq'
>>> is_valid_slug("dc-1"), is_valid_slug("DC 1")
(True, False)
>>> network_driver_for("ios"), network_driver_for("cisco_iosxr"), network_driver_for("nonsense")
('cisco_ios', 'cisco_xr', None)
>>> manufacturer_for_driver("cisco_nxos"), manufacturer_for_driver("juniper_junos"), manufacturer_for_driver("x")
('Cisco', 'Juniper', None)
"""

from __future__ import annotations

import re
import unicodedata

SLUG_MAX_LENGTH = 100  # the width of every slug column in the store

_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$")


def slugify(name: str) -> str:
    """A slug for ``name``: lowercase ASCII letters, digits, ``-`` and ``_``.

    Accents are dropped (``é`` becomes ``e``), every run of other characters becomes a
    single ``-``, and separators are trimmed from both ends. The result is empty when
    ``name`` has no letters or digits at all.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9_]+", "-", ascii_name)
    slug = re.sub(r"([-_])[-_]+", r"\1", slug)
    return slug[:SLUG_MAX_LENGTH].strip("-_")


def is_valid_slug(value: str) -> bool:
    """Whether ``value`` is a slug as :func:`slugify` makes them."""
    return len(value) <= SLUG_MAX_LENGTH and _SLUG_RE.match(value) is not None


# Where a name is not netutils' own normalised name, the libraries' names are tried in this
# order: the drivers nettui ships first, then the other common automation tools.
_DRIVER_LIBRARIES = ("netmiko", "scrapli", "napalm", "ansible", "pyats", "pyntc", "ntc_templates")


def network_driver_for(name: str) -> str | None:
    """The netutils-normalised network driver for ``name``, or ``None`` if nobody knows it.

    ``name`` may already be normalised (``cisco_ios``), or be any library's own name for the
    platform (napalm ``ios``, scrapli ``cisco_iosxr``, ansible ``cisco.ios.ios``...).
    """
    from netutils.lib_mapper import MAIN_LIB_MAPPER, NAME_TO_LIB_MAPPER

    key = name.strip().lower()
    if key in MAIN_LIB_MAPPER:
        return str(MAIN_LIB_MAPPER[key])
    for library in _DRIVER_LIBRARIES:
        driver = NAME_TO_LIB_MAPPER[library].get(key)
        if driver is not None:
            return str(driver)
    return None


def known_network_drivers() -> list[str]:
    """Every normalised network driver name netutils knows, sorted."""
    from netutils.lib_mapper import MAIN_LIB_MAPPER

    return sorted(set(MAIN_LIB_MAPPER.values()))


# netutils names drivers vendor_os; the vendor part says who makes the device.
_VENDORS = {
    "a10": "A10 Networks",
    "arista": "Arista",
    "aruba": "HPE Aruba",
    "checkpoint": "Check Point",
    "cisco": "Cisco",
    "dell": "Dell",
    "extreme": "Extreme Networks",
    "f5": "F5",
    "fortinet": "Fortinet",
    "hp": "HPE",
    "huawei": "Huawei",
    "juniper": "Juniper",
    "mikrotik": "MikroTik",
    "nokia": "Nokia",
    "paloalto": "Palo Alto Networks",
    "ruckus": "Ruckus",
    "ubiquiti": "Ubiquiti",
    "vyos": "VyOS",
}


def manufacturer_for_driver(driver: str) -> str | None:
    """Who makes devices of a normalised network driver (``cisco_ios`` -> ``Cisco``), if known."""
    return _VENDORS.get(driver.split("_", 1)[0])
