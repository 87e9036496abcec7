"""A store of past inspections in a real database, through SQLAlchemy.

SQLite (``history.db`` in the working directory) is the default; set ``INSPECTOR_DB_URL`` to
any SQLAlchemy URL to use another database, e.g. ``postgresql://user:pass@host/db`` (served by
the psycopg 3 driver from ``requirements.txt``): the schema only uses portable column types. Each row keeps the full inspection JSON, a small
PNG thumbnail and a few indexed columns to filter on, among them the ``user`` who inspected.

A second table, ``audit_log``, keeps one row per action (who inspected what, with which models
and thresholds); rows are only ever added.

Databases written before the ``user`` column existed keep working: the column is added when
the store opens them (their old rows have no user).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    String,
    create_engine,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from core.errors import ConfigError, InspectorError
from core.redact import redact

log = logging.getLogger(__name__)

DB_URL_ENV = "INSPECTOR_DB_URL"
DEFAULT_DB_URL = "sqlite:///history.db"


class _Base(DeclarativeBase):
    pass


class InspectionRow(_Base):
    """One stored inspection."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created: Mapped[datetime] = mapped_column(DateTime, index=True)  # naive UTC
    verdict: Mapped[str] = mapped_column(String(32), index=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    ct_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    rgb_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    ct_label: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rgb_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    inspection: Mapped[dict[str, Any]] = mapped_column(JSON)
    thumbnail: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    user: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)


class AuditRow(_Base):
    """One audited action: who did what, with which models and settings."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created: Mapped[datetime] = mapped_column(DateTime, index=True)  # naive UTC
    user: Mapped[str] = mapped_column(String(128), index=True)
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


@dataclass
class AuditRecord:
    """An audit row as plain data."""

    id: int
    created: datetime
    user: str
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class HistoryRecord:
    """A stored inspection as plain data (safe to use after its database session closed)."""

    id: int
    created: datetime
    verdict: str
    confidence: float | None
    ct_name: str | None
    rgb_name: str | None
    ct_label: str | None
    rgb_score: float | None
    inspection: dict[str, Any]
    thumbnail: bytes | None
    user: str | None = None

    @classmethod
    def from_row(cls, row: InspectionRow) -> HistoryRecord:
        return cls(
            id=row.id,
            created=row.created,
            verdict=row.verdict,
            confidence=row.confidence,
            ct_name=row.ct_name,
            rgb_name=row.rgb_name,
            ct_label=row.ct_label,
            rgb_score=row.rgb_score,
            inspection=dict(row.inspection),
            thumbnail=row.thumbnail,
            user=row.user,
        )


def default_url() -> str:
    """The database URL from ``INSPECTOR_DB_URL``, else SQLite ``history.db`` in the working dir."""
    return os.environ.get(DB_URL_ENV) or DEFAULT_DB_URL


class HistoryStore:
    """Add, filter and reopen past inspections.

    One store may be shared by many threads (Streamlit sessions): every call opens its own
    short database session.

    Args:
        url: SQLAlchemy database URL; defaults to :func:`default_url`.

    Raises:
        ConfigError: the URL is malformed or names a driver that is not installed.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        self.engine = _make_engine(self.url)
        try:
            _Base.metadata.create_all(self.engine)
            _add_missing_columns(self.engine)
        except SQLAlchemyError as exc:
            raise ConfigError(
                f"cannot open the history database {self.safe_url}: {exc.__class__.__name__}"
            ) from exc

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for display."""
        return self.engine.url.render_as_string(hide_password=True)

    def add(
        self,
        inspection: dict[str, Any],
        *,
        ct_name: str | None = None,
        rgb_name: str | None = None,
        thumbnail: bytes | None = None,
        created: datetime | None = None,
        user: str | None = None,
    ) -> int:
        """Store one inspection (by ``user``, if known) and return its id."""
        row = InspectionRow(created=_utc_naive(created), inspection=inspection, thumbnail=thumbnail, user=user)
        _fill_columns(row, inspection)
        row.ct_name, row.rgb_name = ct_name, rgb_name
        with Session(self.engine) as session, session.begin():
            session.add(row)
            session.flush()
            return int(row.id)

    def update(self, record_id: int, inspection: dict[str, Any]) -> None:
        """Replace the stored inspection JSON (e.g. once the VLM/VLG results arrive).

        Raises:
            InspectorError: no inspection has this id.
        """
        with Session(self.engine) as session, session.begin():
            row = session.get(InspectionRow, record_id)
            if row is None:
                raise InspectorError(f"no stored inspection has id {record_id}")
            row.inspection = inspection
            _fill_columns(row, inspection)

    def get(self, record_id: int) -> HistoryRecord:
        """Reopen one stored inspection.

        Raises:
            InspectorError: no inspection has this id.
        """
        with Session(self.engine) as session:
            row = session.get(InspectionRow, record_id)
            if row is None:
                raise InspectorError(f"no stored inspection has id {record_id}")
            return HistoryRecord.from_row(row)

    def query(
        self,
        *,
        verdicts: list[str] | None = None,
        name_contains: str | None = None,
        min_confidence: float | None = None,
        since: datetime | None = None,
        user: str | None = None,
        limit: int = 200,
    ) -> list[HistoryRecord]:
        """Stored inspections, newest first, filtered by every argument given.

        Args:
            verdicts: keep only these verdicts (``None`` or empty keeps all).
            name_contains: case-insensitive substring of the CT or RGB file name.
            min_confidence: keep inspections at least this confident.
            since: keep inspections created at or after this time.
            user: keep only this user's inspections (``None`` keeps everyone's).
            limit: at most this many records.
        """
        stmt = select(InspectionRow)
        if user is not None:
            stmt = stmt.where(InspectionRow.user == user)
        if verdicts:
            stmt = stmt.where(InspectionRow.verdict.in_(verdicts))
        if name_contains:
            pattern = f"%{name_contains.lower()}%"
            stmt = stmt.where(InspectionRow.ct_name.ilike(pattern) | InspectionRow.rgb_name.ilike(pattern))
        if min_confidence is not None:
            stmt = stmt.where(InspectionRow.confidence >= min_confidence)
        if since is not None:
            stmt = stmt.where(InspectionRow.created >= _utc_naive(since))
        stmt = stmt.order_by(InspectionRow.created.desc(), InspectionRow.id.desc()).limit(limit)
        with Session(self.engine) as session:
            return [HistoryRecord.from_row(row) for row in session.scalars(stmt)]

    def audit(self, user: str, action: str, detail: dict[str, Any], created: datetime | None = None) -> int:
        """Append one audit row (``detail``: what, with which models and thresholds); its id."""
        row = AuditRow(created=_utc_naive(created), user=user, action=action, detail=detail)
        with Session(self.engine) as session, session.begin():
            session.add(row)
            session.flush()
            return int(row.id)

    def audit_log(self, *, user: str | None = None, limit: int = 200) -> list[AuditRecord]:
        """Audit rows, newest first (only ``user``'s if given)."""
        stmt = select(AuditRow)
        if user is not None:
            stmt = stmt.where(AuditRow.user == user)
        stmt = stmt.order_by(AuditRow.created.desc(), AuditRow.id.desc()).limit(limit)
        with Session(self.engine) as session:
            return [
                AuditRecord(r.id, r.created, r.user, r.action, dict(r.detail)) for r in session.scalars(stmt)
            ]

    def delete(self, record_id: int) -> None:
        """Remove one stored inspection (no error if it does not exist)."""
        with Session(self.engine) as session, session.begin():
            row = session.get(InspectionRow, record_id)
            if row is not None:
                session.delete(row)


def _make_engine(url: str) -> Engine:
    if url.startswith(("postgresql://", "postgres://")):
        # plain PostgreSQL URLs mean psycopg2 to SQLAlchemy; use the psycopg 3 we ship
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        # Streamlit serves each session from its own thread.
        kwargs["connect_args"] = {"check_same_thread": False}
    try:
        return create_engine(url, **kwargs)
    except (ArgumentError, ValueError):
        raise ConfigError(f"{DB_URL_ENV} is not a valid database URL: {redact(url)!r}") from None
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the database driver for {url.split(':', 1)[0]} is not installed ({exc.name})"
        ) from exc


def _add_missing_columns(engine: Engine) -> None:
    """Add the columns a database written by an older version lacks (``create_all`` only
    creates missing tables). New columns are nullable, so old rows stay valid."""
    present = {c["name"] for c in inspect(engine).get_columns(InspectionRow.__tablename__)}
    for column in InspectionRow.__table__.columns:
        if column.name in present:
            continue
        if not column.nullable:
            raise ConfigError(f"the history database lacks the required column {column.name!r}")
        preparer = engine.dialect.identifier_preparer
        kind = column.type.compile(dialect=engine.dialect)
        log.info("history database: adding the missing column %s", column.name)
        with engine.begin() as connection:
            connection.execute(
                text(
                    f"ALTER TABLE {preparer.quote(InspectionRow.__tablename__)} "
                    f"ADD COLUMN {preparer.quote(column.name)} {kind}"
                )
            )
            if column.index:
                name = f"ix_{InspectionRow.__tablename__}_{column.name}"
                connection.execute(
                    text(
                        f"CREATE INDEX IF NOT EXISTS {preparer.quote(name)} ON "
                        f"{preparer.quote(InspectionRow.__tablename__)} ({preparer.quote(column.name)})"
                    )
                )


def _utc_naive(moment: datetime | None) -> datetime:
    """UTC without tzinfo: compares the same way in SQLite and PostgreSQL."""
    if moment is None:
        return datetime.now(timezone.utc).replace(tzinfo=None)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _fill_columns(row: InspectionRow, inspection: dict[str, Any]) -> None:
    """Copy the filterable fields out of the inspection JSON."""
    row.verdict = str(inspection.get("verdict") or "unknown")
    confidence = inspection.get("confidence")
    row.confidence = float(confidence) if isinstance(confidence, (int, float)) else None
    ct = inspection.get("ct") or {}
    rgb = inspection.get("rgb") or {}
    row.ct_label = ct.get("label")
    score = rgb.get("score")
    row.rgb_score = float(score) if isinstance(score, (int, float)) else None
