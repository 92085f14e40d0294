"""Inventory: what the network is made of (the objects the data model points at)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models.base import Base, Timestamped, choice_type
from catalog.models.choices import DeviceStatus, InterfaceMode, IPAMStatus

if TYPE_CHECKING:
    from catalog.models.identity import SecretsGroup


def _m2m(name: str, left: str, right: str) -> Table:
    """An association table whose rows disappear with either side."""
    return Table(
        name,
        Base.metadata,
        Column(f"{left}_id", ForeignKey(f"{left}.id", ondelete="CASCADE"), primary_key=True),
        Column(f"{right}_id", ForeignKey(f"{right}.id", ondelete="CASCADE"), primary_key=True),
    )


device_tags = _m2m("device_tags", "device", "tag")
interface_tagged_vlans = _m2m("interface_tagged_vlans", "interface", "vlan")


class Manufacturer(Timestamped, Base):
    __tablename__ = "manufacturer"

    name: Mapped[str] = mapped_column(unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")

    platforms: Mapped[list[Platform]] = relationship(back_populates="manufacturer")


class Platform(Timestamped, Base):
    """A device operating system; ``network_driver`` is the netutils-normalised driver name."""

    __tablename__ = "platform"

    name: Mapped[str] = mapped_column(unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    manufacturer_id: Mapped[int | None] = mapped_column(ForeignKey("manufacturer.id", ondelete="RESTRICT"))
    network_driver: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")

    manufacturer: Mapped[Manufacturer | None] = relationship(back_populates="platforms")


class Location(Timestamped, Base):
    """A site (or a region or building: ``location_type`` says which), optionally nested."""

    __tablename__ = "location"

    name: Mapped[str] = mapped_column(unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    location_type: Mapped[str] = mapped_column(String(50), default="site")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("location.id", ondelete="RESTRICT"))
    description: Mapped[str] = mapped_column(Text, default="")

    parent: Mapped[Location | None] = relationship(remote_side="Location.id")


class Tenant(Timestamped, Base):
    __tablename__ = "tenant"

    name: Mapped[str] = mapped_column(unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")


class Tag(Timestamped, Base):
    __tablename__ = "tag"

    name: Mapped[str] = mapped_column(unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    color: Mapped[str] = mapped_column(String(6), default="9e9e9e")
    description: Mapped[str] = mapped_column(Text, default="")


class DeviceRole(Timestamped, Base):
    """What a device does in the network (access switch, core router, firewall...)."""

    __tablename__ = "device_role"

    name: Mapped[str] = mapped_column(unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")


class Device(Timestamped, Base):
    """A managed device: where it is, how to reach it, and which credentials to use."""

    __tablename__ = "device"
    __table_args__ = (CheckConstraint("ssh_port BETWEEN 1 AND 65535", name="ssh_port_range"),)

    name: Mapped[str] = mapped_column(unique=True)
    host: Mapped[str] = mapped_column(doc="Primary IP address or DNS name used to connect")
    ssh_port: Mapped[int] = mapped_column(default=22)
    manufacturer_id: Mapped[int | None] = mapped_column(ForeignKey("manufacturer.id", ondelete="RESTRICT"))
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platform.id", ondelete="RESTRICT"), index=True)
    model: Mapped[str] = mapped_column(String(100), default="")
    role_id: Mapped[int | None] = mapped_column(ForeignKey("device_role.id", ondelete="RESTRICT"), index=True)
    status: Mapped[DeviceStatus] = mapped_column(choice_type(DeviceStatus), default=DeviceStatus.ACTIVE)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id", ondelete="RESTRICT"), index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    software_version: Mapped[str] = mapped_column(String(100), default="")
    serial: Mapped[str] = mapped_column(String(100), default="", index=True)
    secrets_group_id: Mapped[int | None] = mapped_column(ForeignKey("secrets_group.id", ondelete="RESTRICT"))

    manufacturer: Mapped[Manufacturer | None] = relationship()
    platform: Mapped[Platform | None] = relationship()
    role: Mapped[DeviceRole | None] = relationship()
    location: Mapped[Location | None] = relationship()
    tenant: Mapped[Tenant | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=device_tags, order_by="Tag.name")
    secrets_group: Mapped[SecretsGroup | None] = relationship()
    interfaces: Mapped[list[Interface]] = relationship(
        back_populates="device", cascade="all, delete-orphan", passive_deletes=True, order_by="Interface.name"
    )


class VLAN(Timestamped, Base):
    __tablename__ = "vlan"
    __table_args__ = (
        UniqueConstraint("location_id", "vid"),
        CheckConstraint("vid BETWEEN 1 AND 4094", name="vid_range"),
    )

    vid: Mapped[int]
    name: Mapped[str]
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id", ondelete="RESTRICT"), index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"))
    status: Mapped[IPAMStatus] = mapped_column(choice_type(IPAMStatus), default=IPAMStatus.ACTIVE)
    description: Mapped[str] = mapped_column(Text, default="")

    location: Mapped[Location | None] = relationship()
    tenant: Mapped[Tenant | None] = relationship()


class Interface(Timestamped, Base):
    __tablename__ = "interface"
    __table_args__ = (
        UniqueConstraint("device_id", "name"),
        CheckConstraint("mtu IS NULL OR mtu BETWEEN 64 AND 65536", name="mtu_range"),
    )

    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(50), default="other")
    enabled: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str] = mapped_column(Text, default="")
    mode: Mapped[InterfaceMode | None] = mapped_column(choice_type(InterfaceMode))
    untagged_vlan_id: Mapped[int | None] = mapped_column(ForeignKey("vlan.id", ondelete="SET NULL"))
    mtu: Mapped[int | None]
    mac_address: Mapped[str] = mapped_column(String(17), default="")

    device: Mapped[Device] = relationship(back_populates="interfaces")
    untagged_vlan: Mapped[VLAN | None] = relationship()
    tagged_vlans: Mapped[list[VLAN]] = relationship(secondary=interface_tagged_vlans, order_by="VLAN.vid")
    ip_addresses: Mapped[list[IPAddress]] = relationship(back_populates="interface")


class VRF(Timestamped, Base):
    __tablename__ = "vrf"

    name: Mapped[str] = mapped_column(unique=True)
    rd: Mapped[str | None] = mapped_column(String(50), unique=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"))
    description: Mapped[str] = mapped_column(Text, default="")

    tenant: Mapped[Tenant | None] = relationship()


class Prefix(Timestamped, Base):
    __tablename__ = "prefix"
    __table_args__ = (UniqueConstraint("vrf_id", "prefix"),)

    prefix: Mapped[str] = mapped_column(String(50), index=True, doc="CIDR, e.g. 10.0.0.0/24")
    vrf_id: Mapped[int | None] = mapped_column(ForeignKey("vrf.id", ondelete="RESTRICT"))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id", ondelete="RESTRICT"))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"))
    vlan_id: Mapped[int | None] = mapped_column(ForeignKey("vlan.id", ondelete="SET NULL"))
    status: Mapped[IPAMStatus] = mapped_column(choice_type(IPAMStatus), default=IPAMStatus.ACTIVE)
    description: Mapped[str] = mapped_column(Text, default="")

    vrf: Mapped[VRF | None] = relationship()
    location: Mapped[Location | None] = relationship()
    tenant: Mapped[Tenant | None] = relationship()
    vlan: Mapped[VLAN | None] = relationship()


class IPAddress(Timestamped, Base):
    __tablename__ = "ip_address"
    __table_args__ = (UniqueConstraint("vrf_id", "address"),)

    address: Mapped[str] = mapped_column(String(50), index=True, doc="Address with mask, e.g. 10.0.0.1/24")
    vrf_id: Mapped[int | None] = mapped_column(ForeignKey("vrf.id", ondelete="RESTRICT"))
    interface_id: Mapped[int | None] = mapped_column(ForeignKey("interface.id", ondelete="SET NULL"))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"))
    status: Mapped[IPAMStatus] = mapped_column(choice_type(IPAMStatus), default=IPAMStatus.ACTIVE)
    dns_name: Mapped[str] = mapped_column(default="")
    description: Mapped[str] = mapped_column(Text, default="")

    vrf: Mapped[VRF | None] = relationship()
    interface: Mapped[Interface | None] = relationship(back_populates="ip_addresses")
    tenant: Mapped[Tenant | None] = relationship()


class DeviceHostKey(Timestamped, Base):
    """The SSH host key trusted for a device (trust on first use). A device that presents
    another key is refused until an operator accepts the new one."""

    __tablename__ = "device_host_key"

    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), unique=True)
    key_type: Mapped[str] = mapped_column(String(50))
    public_key: Mapped[str] = mapped_column(Text, doc="OpenSSH one-line form, without comment")
    fingerprint: Mapped[str] = mapped_column(String(100), doc="SHA256:... as ssh-keygen -l prints")

    device: Mapped[Device] = relationship()
