"""Who is asking (users, their keys and scope) and where secrets live (references, never values)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models.base import Base, Timestamped, choice_type
from catalog.models.choices import SecretBackend, UserRole
from catalog.models.inventory import DeviceRole, Location, Tag, Tenant, _m2m

user_scope_locations = _m2m("user_scope_locations", "user", "location")
user_scope_tenants = _m2m("user_scope_tenants", "user", "tenant")
user_scope_tags = _m2m("user_scope_tags", "user", "tag")
user_scope_roles = _m2m("user_scope_roles", "user", "device_role")


class User(Timestamped, Base):
    """A person using nettui. An empty scope means every device; otherwise a device is in scope
    when it matches every non-empty scope dimension (location, tenant, tag, role)."""

    __tablename__ = "user"

    username: Mapped[str] = mapped_column(String(150), unique=True)
    full_name: Mapped[str] = mapped_column(default="")
    email: Mapped[str] = mapped_column(default="")
    role: Mapped[UserRole] = mapped_column(choice_type(UserRole), default=UserRole.VIEWER)
    is_active: Mapped[bool] = mapped_column(default=True)

    ssh_keys: Mapped[list[SshPublicKey]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True, order_by="SshPublicKey.id"
    )
    scope_locations: Mapped[list[Location]] = relationship(secondary=user_scope_locations, order_by="Location.name")
    scope_tenants: Mapped[list[Tenant]] = relationship(secondary=user_scope_tenants, order_by="Tenant.name")
    scope_tags: Mapped[list[Tag]] = relationship(secondary=user_scope_tags, order_by="Tag.name")
    scope_roles: Mapped[list[DeviceRole]] = relationship(secondary=user_scope_roles, order_by="DeviceRole.name")

    @property
    def name(self) -> str:
        return self.username


class SshPublicKey(Timestamped, Base):
    """An OpenSSH public key a user logs in to the bastion with."""

    __tablename__ = "ssh_public_key"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    key_type: Mapped[str] = mapped_column(String(50))
    public_key: Mapped[str] = mapped_column(Text, doc="The key in OpenSSH one-line format, without comment")
    fingerprint: Mapped[str] = mapped_column(String(100), unique=True, doc="SHA256:... as ssh-keygen -l prints")
    comment: Mapped[str] = mapped_column(default="")

    user: Mapped[User] = relationship(back_populates="ssh_keys")


class SecretsGroup(Timestamped, Base):
    """A named set of credentials (username, password, enable secret, token...), stored as references."""

    __tablename__ = "secrets_group"

    name: Mapped[str] = mapped_column(unique=True)
    description: Mapped[str] = mapped_column(Text, default="")

    entries: Mapped[list[SecretsGroupEntry]] = relationship(
        back_populates="group", cascade="all, delete-orphan", passive_deletes=True, order_by="SecretsGroupEntry.name"
    )


class SecretsGroupEntry(Timestamped, Base):
    """Where one secret lives: a keyring item (``service/username``), an environment variable or
    a file path. The secret itself is never stored."""

    __tablename__ = "secrets_group_entry"
    __table_args__ = (UniqueConstraint("group_id", "name"),)

    group_id: Mapped[int] = mapped_column(ForeignKey("secrets_group.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100), doc="username, password, enable_secret, token, ...")
    backend: Mapped[SecretBackend] = mapped_column(choice_type(SecretBackend))
    reference: Mapped[str] = mapped_column(String(1024))

    group: Mapped[SecretsGroup] = relationship(back_populates="entries")
