"""The bastion's own records: what it refused (for audit), and users' second factors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models.base import Base, utcnow
from catalog.models.identity import SecretsGroup, User


class BastionEvent(Base):
    """One refusal at the bastion (a wrong key, a device out of scope, a forwarding request...).

    Names are kept as text, not foreign keys: the user or device may not exist at all, and the
    record must outlive both."""

    __tablename__ = "bastion_event"

    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(50), doc="refused, ...")
    username: Mapped[str] = mapped_column(String(150), default="", index=True)
    device: Mapped[str] = mapped_column(default="")
    source: Mapped[str] = mapped_column(String(100), default="", doc="client address and port")
    reason: Mapped[str] = mapped_column(Text, default="")


class BastionSecondFactor(Base):
    """A user's TOTP second factor at the bastion: which secrets group entry holds the seed
    (base32, as authenticator apps take it). The seed itself never lives in the store."""

    __tablename__ = "bastion_second_factor"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    secrets_group_id: Mapped[int] = mapped_column(ForeignKey("secrets_group.id", ondelete="RESTRICT"))
    entry: Mapped[str] = mapped_column(String(100), default="totp", doc="the entry of the group with the seed")

    user: Mapped[User] = relationship()
    secrets_group: Mapped[SecretsGroup] = relationship()
