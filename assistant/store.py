"""Conversations, messages, handoff requests, agent and citizen presence, and feedback in a SQL database.

SQLAlchemy, so a SQLite file in the data dir serves one machine and a PostgreSQL URL serves several
app processes; the same code either way. Everything stored is already redacted.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, create_engine, event
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


def make_sessionmaker(url: str) -> sessionmaker:  # type: ignore[type-arg]
    """Create the tables if needed and return a session factory for ``url``."""
    # A failed statement's parameters (a citizen's words) stay out of its error message, and so out of the log.
    if url.startswith("sqlite"):
        engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    else:  # a turn in flight holds a connection for its advisory lock (see Desk._one_turn) besides its queries
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30, hide_parameters=True)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the console read while a chat writes; busy_timeout waits instead of failing at once.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


__all__ = ["AgentPresence", "Base", "CitizenPresence", "Conversation", "Feedback", "Handoff", "Message",
           "make_sessionmaker"]
