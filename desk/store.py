"""Conversations, messages, handoff requests, agent and citizen presence, feedback and its review, and the rate
limits and failed staff logins that several app processes share, in a SQL database.

SQLAlchemy, so a SQLite file in the data dir serves one machine and a PostgreSQL URL serves several
app processes; the same code either way. Everything stored is already redacted.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import JSON, DateTime, Double, ForeignKey, Integer, String, Text, create_engine, event, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Conversation(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="bot")  # bot | waiting | agent | closed
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    dialogue: Mapped[dict] = mapped_column(JSON, default=dict)  # type: ignore[type-arg]  # the Session record
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # user | assistant | agent | system
    author: Mapped[str | None] = mapped_column(String(64), nullable=True)
    content: Mapped[str] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)  # type: ignore[type-arg]  # citations, cards, what was retrieved
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Handoff(Base):
    __tablename__ = "handoffs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    # waiting | claimed | returned | closed | callback | withdrawn (the citizen left before anyone came)
    status: Mapped[str] = mapped_column(String(16), index=True)
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ticket: Mapped[str | None] = mapped_column(String(32), nullable=True, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AgentPresence(Base):
    __tablename__ = "agent_presence"
    agent: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class CitizenPresence(Base):
    """When the citizen's page last asked about the conversation (it polls every 2 s while waiting)."""

    __tablename__ = "citizen_presence"
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Feedback(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), nullable=True)
    rating: Mapped[str] = mapped_column(String(8))  # up | down
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class FeedbackReview(Base):
    """A rating staff have looked at in the console: saved as an evaluation case (``case_id``) or set aside.

    A table of its own rather than a column of ``feedback``: ``create_all`` adds a new table to an existing
    database, never a column to an existing table."""

    __tablename__ = "feedback_reviews"
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id"), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)  # purged with it
    agent: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reviewed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class RateBucket(Base):
    """A client's token bucket when the rate limits are shared (see desk/ratelimit.py). ``key`` is a digest
    of the limit's scope and the client's key (an address, a session), so no address is kept here; the times
    are the limiter's clock in seconds."""

    __tablename__ = "rate_buckets"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    tokens: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double, index=True)  # idle buckets are found by it and deleted


class LoginFailure(Base):
    """One failed staff login, once for its address and once for its login, when the throttle is shared (see
    desk/staff.py). ``key`` is a digest, as in ``rate_buckets``."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(32), index=True)
    failed_at: Mapped[float] = mapped_column(Double, index=True)


def limit_key(key: str) -> str:
    """The stored form of a rate limit's or the login throttle's key: a digest, 32 hex characters."""
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


SCHEMA_LOCK = 0x62616E736869  # the advisory lock key under which the tables are created ("banshi")


def make_sessionmaker(url: str) -> sessionmaker:  # type: ignore[type-arg]
    """Create the tables if needed and return a session factory for ``url``."""
    # A failed statement's parameters (a citizen's words) stay out of its error message, and so out of the log.
    if url.startswith("sqlite") and not _in_memory(url):
        # SQLite writes one transaction at a time whatever the pool: the threads of this process take turns for
        # one connection in the pool's queue (woken as soon as it is free) rather than in SQLite's busy handler,
        # which sleeps up to 100 ms between tries and, under load, gives up with "database is locked".
        engine = create_engine(url, pool_pre_ping=True, hide_parameters=True, pool_size=1, max_overflow=0,
                               pool_timeout=60)
    elif url.startswith("sqlite"):
        engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    else:  # a turn in flight holds a connection for its advisory lock (see Desk._one_turn) besides its queries
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30, hide_parameters=True)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    if engine.dialect.name == "postgresql":
        # Processes started together (several `banshi serve` on one database) would each create the tables and
        # all but one fail on PostgreSQL's catalogue; under this lock one creates them and the others find them.
        with engine.begin() as connection:
            connection.execute(select(func.pg_advisory_xact_lock(SCHEMA_LOCK)))
            Base.metadata.create_all(connection)
    else:
        Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


def _in_memory(url: str) -> bool:
    return url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url


def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets other processes (the console's, `banshi purge`) read while this one writes; busy_timeout makes
    # them wait for each other instead of failing at once.
    connection.isolation_level = None  # transactions are begun by _sqlite_begin, not by the driver
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection) -> None:  # type: ignore[no-untyped-def]
    # IMMEDIATE takes the write lock at the start. A transaction begun by a read and writing later cannot wait
    # for another process's write: SQLite fails it at once with "database is locked", busy_timeout or not.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


__all__ = ["AgentPresence", "Base", "CitizenPresence", "Conversation", "Feedback", "FeedbackReview", "Handoff",
           "LoginFailure", "Message", "RateBucket", "limit_key", "make_sessionmaker"]
