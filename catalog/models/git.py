"""Catalog content kept in Git: which repository and path hold it, and each import or export."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models.base import Base, Timestamped, choice_type, utcnow
from catalog.models.choices import GitDirection, GitSyncStatus
from catalog.models.identity import SecretsGroup


class GitRepository(Timestamped, Base):
    """A Git repository and the path inside it that holds catalog content (or backups)."""

    __tablename__ = "git_repository"

    name: Mapped[str] = mapped_column(unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    remote_url: Mapped[str] = mapped_column(String(1024))
    branch: Mapped[str] = mapped_column(String(255), default="main")
    path: Mapped[str] = mapped_column(String(1024), default="", doc="Folder inside the repository")
    provides: Mapped[list[Any]] = mapped_column(
        default=list, doc="Content kinds: tasks, implementations, workflows, forms, checks, providers, backups"
    )
    credentials_id: Mapped[int | None] = mapped_column(ForeignKey("secrets_group.id", ondelete="RESTRICT"))

    credentials: Mapped[SecretsGroup | None] = relationship()
    syncs: Mapped[list[GitSyncRecord]] = relationship(
        back_populates="repository",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="GitSyncRecord.started_at.desc()",
    )


class GitSyncRecord(Base):
    """One import from, or export to, a repository: the commit, when, how it ended and why."""

    __tablename__ = "git_sync_record"

    repository_id: Mapped[int] = mapped_column(ForeignKey("git_repository.id", ondelete="CASCADE"), index=True)
    direction: Mapped[GitDirection] = mapped_column(choice_type(GitDirection))
    commit_sha: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[GitSyncStatus] = mapped_column(choice_type(GitSyncStatus), default=GitSyncStatus.RUNNING)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    message: Mapped[str] = mapped_column(Text, default="")
    errors: Mapped[list[Any]] = mapped_column(default=list)

    repository: Mapped[GitRepository] = relationship(back_populates="syncs")
