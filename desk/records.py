"""The desk's records for staff: the report of what citizens asked and how it went, and retention (purge)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, select

from desk.store import (
    CitizenPresence,
    Conversation,
    Feedback,
    FeedbackReview,
    Handoff,
    Message,
)
from desk.types import WITH_PERSON, DeskError, aware

logger = logging.getLogger(__name__)


class Records:
    """Reports and retention over the desk's database (``self.sessions``, ``self.clock``): a part of Desk."""

    sessions: Any
    clock: Callable[[], dt.datetime]

    # -- reports for staff ---------------------------------------------------------------------------
    def report(self, since: dt.datetime, *, top: int = 20) -> dict[str, Any]:
        """What happened since ``since``: traffic, the bot's decisions, handoffs, ratings, and what to
        improve: the questions it could not answer and the answers rated down (texts already redacted)."""
        since = aware(since)
        with self.sessions() as db:
            channels = Counter(dict(db.execute(select(Conversation.channel, func.count()).where(
                Conversation.created_at >= since).group_by(Conversation.channel)).all()))
            rows = db.scalars(select(Message).where(Message.created_at >= since)
                              .order_by(Message.conversation_id, Message.id)).all()
            handoffs = db.scalars(select(Handoff).where(Handoff.created_at >= since)).all()
            ratings = db.scalars(select(Feedback).where(Feedback.created_at >= since)).all()
            asked: dict[int, str] = {}  # reply message id -> the question before it
            last_question: dict[str, str] = {}
            for message in rows:
                if message.role == "user":
                    last_question[message.conversation_id] = message.content
                elif message.role == "assistant" and message.conversation_id in last_question:
                    asked[message.id] = last_question.pop(message.conversation_id)
            replies = [m for m in rows if m.role == "assistant"]
            by_id = {m.id: m for m in replies}
            guides = Counter(title for m in replies if m.decision == "answer" and (title := _first_title(m)))
            unanswered = Counter(asked[m.id] for m in replies if m.decision == "refuse" and m.id in asked)
            rated_down = [{"question": asked.get(f.message_id or -1, ""), "reason": f.reason,
                           "decision": reply.decision if reply else None, "guide": _first_title(reply)}
                          for f in ratings if f.rating == "down" for reply in [by_id.get(f.message_id or -1)]]
        return {
            "since": since.isoformat(),
            "conversations": sum(channels.values()), "channels": dict(channels),
            "questions": sum(1 for m in rows if m.role == "user"),
            "decisions": dict(Counter(m.decision for m in replies if m.decision)),
            "handoffs": dict(Counter(h.status for h in handoffs)),
            "handoff_reasons": dict(Counter(h.reason for h in handoffs)),
            "ratings": {"up": sum(f.rating == "up" for f in ratings), "down": len(rated_down)},
            "top_guides": guides.most_common(top),
            "unanswered": unanswered.most_common(top),
            "rated_down": rated_down[-top:],
        }

    # -- retention ----------------------------------------------------------------------------------
    def purge(self, older_than: dt.timedelta, *, dry_run: bool = False, batch: int = 500) -> dict[str, int]:
        """Delete conversations untouched for ``older_than``, with their messages, handoffs and feedback.

        A conversation waiting for or with an agent is kept whatever its age. Returns how many rows of
        each kind went (or, with ``dry_run``, would go).
        """
        if older_than <= dt.timedelta(0):
            raise DeskError(f"the retention period must be positive, got {older_than}")
        cutoff = self.clock() - older_than
        stale = select(Conversation.id).where(Conversation.updated_at < cutoff,
                                              Conversation.status.not_in(WITH_PERSON))
        children = (("feedback", Feedback), ("handoffs", Handoff), ("messages", Message))
        counts = dict.fromkeys(("conversations", "messages", "handoffs", "feedback"), 0)
        if dry_run:
            with self.sessions() as db:
                counts["conversations"] = db.scalar(select(func.count()).select_from(stale.subquery())) or 0
                for name, table in children:
                    counts[name] = db.scalar(select(func.count()).select_from(table)
                                             .where(table.conversation_id.in_(stale))) or 0
            return counts
        while True:
            with self.sessions.begin() as db:  # in batches: a long-unpurged database is not one huge transaction
                ids = list(db.scalars(stale.limit(batch)))
                if not ids:
                    break
                db.execute(delete(FeedbackReview).where(FeedbackReview.conversation_id.in_(ids)))  # before its feedback
                for name, table in children:
                    gone = db.execute(delete(table).where(table.conversation_id.in_(ids)))
                    counts[name] += gone.rowcount  # type: ignore[attr-defined]
                db.execute(delete(CitizenPresence).where(CitizenPresence.conversation_id.in_(ids)))
                gone = db.execute(delete(Conversation).where(Conversation.id.in_(ids)))
                counts["conversations"] += gone.rowcount  # type: ignore[attr-defined]
        if counts["conversations"]:
            logger.info("retention: deleted %s conversations older than %s (%s messages)", counts["conversations"],
                        older_than, counts["messages"])
        return counts


def keep_purging(desk: Records, older_than: dt.timedelta, stop: threading.Event,
                 every: dt.timedelta = dt.timedelta(hours=24)) -> None:
    """Purge now and then every ``every`` until ``stop`` is set (the server runs this in a thread)."""
    while not stop.is_set():
        try:
            desk.purge(older_than)
        except Exception:  # noqa: BLE001 - a failed purge must not stop the service; the log tells
            logger.exception("retention purge failed")
        stop.wait(every.total_seconds())


def _first_title(message: Message | None) -> str | None:
    citations = message.detail.get("citations") if message is not None else None
    return str(citations[0]["title"]) if citations else None
