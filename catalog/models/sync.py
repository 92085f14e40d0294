"""Where inventory comes from when an external source of truth (Nautobot) feeds it.

An :class:`InventorySource` is one server the inventory is synced from, with the time its last
sync started (the next, incremental, sync fetches only objects changed since). An
:class:`ExternalRef` ties one nettui row (``kind`` = its table, ``object_id``) to the source's
id for it (a Nautobot UUID): a later sync finds the row by that id even after a rename, and
knows which rows came from the source when objects disappear there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models.base import Base, Timestamped


class InventorySource(Timestamped, Base):
    """An external inventory source, e.g. ``nautobot`` at a URL."""

    __tablename__ = "inventory_source"

    name: Mapped[str] = mapped_column(String(255), unique=True, doc="kind and URL, e.g. nautobot http://nb:8080")
    kind: Mapped[str] = mapped_column(String(50), default="nautobot")
    url: Mapped[str] = mapped_column(String(1024))
    last_synced_at: Mapped[datetime | None] = mapped_column(
        doc="When the last successful sync started: the next one fetches objects changed since"
    )
    last_summary: Mapped[dict[str, Any]] = mapped_column(default=dict)

    refs: Mapped[list[ExternalRef]] = relationship(
        back_populates="source", cascade="all, delete-orphan", passive_deletes=True
    )


class ExternalRef(Base):
    """One nettui row (``kind``, ``object_id``) and the source's id for it."""

    __tablename__ = "external_ref"
    __table_args__ = (
        UniqueConstraint("source_id", "kind", "external_id"),
        UniqueConstraint("source_id", "kind", "object_id"),
    )

    source_id: Mapped[int] = mapped_column(ForeignKey("inventory_source.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(50), doc="The nettui table: device, interface, location...")
    object_id: Mapped[int]
    external_id: Mapped[str] = mapped_column(String(64), doc="The source's id, e.g. a Nautobot UUID")
    missing_since: Mapped[datetime | None] = mapped_column(
        doc="Set by the 'mark' deletion policy when the object is gone from the source"
    )

    source: Mapped[InventorySource] = relationship(back_populates="refs")
