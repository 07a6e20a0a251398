"""The service desk: conversations that persist, and a real handoff queue to human agents.

A citizen's turn is answered by the bot while the conversation is the bot's; when the citizen asks
for a person, complains, or the bot fails twice, the conversation joins the queue with its
transcript. An agent claims it (only one can), replies, and hands it back to the bot or closes it.
With no agent online, or outside service hours, the citizen gets a ticket number and the 12345
hotline instead of silence, and the request waits in the console's list of 留言 until an agent takes
it and replies in the conversation. Every stored text is redacted first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import delete, event, func, select, update
from sqlalchemy.exc import IntegrityError

from assistant.answer import Answer
from assistant.clean import clean_text
from assistant.compose import agent_label, handoff_reply
from assistant.intent import HOTLINE, called_hotline
from assistant.redact import redact
from assistant.session import Session
from assistant.store import (
    AgentPresence,
    CitizenPresence,
    Conversation,
    Feedback,
    FeedbackReview,
    Handoff,
    Message,
    make_sessionmaker,
)
from knowledge.errors import BanshiError

logger = logging.getLogger(__name__)

# Added to a refusal while nobody can take a conversation: what 转人工 does then.
NOBODY_NOW = "\n\n现在暂无工作人员在线，点“转人工”可为您登记留言，工作人员上班后会在本对话中回复您。"
NOBODY_AT_KIOSK = "\n\n现在暂无工作人员在线，您可以到大厅咨询台咨询。"  # the citizen will walk away from the screen
BEIJING = dt.timezone(dt.timedelta(hours=8))  # service hours, ticket dates and reports are in 北京时间
WITH_PERSON = ("waiting", "agent")  # conversation states in which a person, not the bot, answers next
REASONS = {"requested": "群众要求", "complaint": "投诉", "repeated_failure": "连续两次未能解答"}
MAX_QUESTION_CHARS = 2000  # one question, on every channel
T = TypeVar("T")  # what a write under a ticket number returns (see Desk._numbered)
AGENT_ONLINE_SECONDS = 90  # an agent whose console has not polled for this long is offline
# A citizen whose page has not asked about a waiting request for this long has left (pages ask every few seconds;
# a browser tab in the background is slowed to about once a minute): the request becomes one left with a
# ticket, answered later in the conversation, and stops counting in the place in line of those behind.
CITIZEN_GONE_SECONDS = 300
Ask = Callable[[str, Session, str | None], Answer]  # (question, dialogue state, hall id) -> answer


class DeskError(BanshiError):
    """A desk operation that cannot be done (unknown conversation, already claimed …)."""


class ClaimConflictError(DeskError):
    """Another agent claimed the conversation first."""


@dataclass(frozen=True)
class HandoffStatus:
    state: str  # bot | waiting | agent | closed | callback
    position: int | None = None  # place in the queue while waiting, 1 = next
    agent: str | None = None
    ticket: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @property
    def with_person(self) -> bool:
        """Waiting for or talking with an agent: messages may arrive that the citizen did not ask for."""
        return self.state in WITH_PERSON


@dataclass(frozen=True)
class QueueEntry:
    handoff_id: int
    conversation_id: str
    reason: str
    channel: str
    waiting_seconds: int
    last_question: str
    ticket: str | None = None  # for a request left while nobody was online


class TurnLocks:
    """One lock per conversation id, held only while someone holds or waits for it.

    Striped locks would let a slow turn (an LLM call) of one citizen hold up an unrelated citizen
    whose id lands on the same stripe; a lock per id does not, and is dropped with its last user.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, list[int]]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.setdefault(key, (threading.Lock(), [0]))
            users[0] += 1
        try:
            with lock:
                yield
        finally:
            with self._guard:
                users[0] -= 1
                if not users[0]:
                    del self._locks[key]

    def __len__(self) -> int:
        with self._guard:
            return len(self._locks)


class Changes:
    """How many messages each conversation got from this process, counted once they are committed: a long poll
    waits for the count to move instead of asking the database again and again. Only the most recent
    ``keep`` conversations are counted; a forgotten one reads 0, which a waiter takes as a change and looks."""

    def __init__(self, keep: int = 10_000) -> None:
        self._guard = threading.Lock()
        self._counts: OrderedDict[str, int] = OrderedDict()
        self.keep = keep

    def count(self, conversation_id: str) -> int:
        with self._guard:
            return self._counts.get(conversation_id, 0)

    def bump(self, conversation_ids: set[str]) -> None:
        with self._guard:
            for conversation_id in conversation_ids:
                self._counts[conversation_id] = self._counts.pop(conversation_id, 0) + 1
            while len(self._counts) > self.keep:
                self._counts.popitem(last=False)


class Desk:
    """Owns the database; ``ask`` is the assistant's turn function, ``clock`` returns aware UTC now."""

    def __init__(self, database_url: str, ask: Ask, *, hours: tuple[dt.time, dt.time] | None = None,
                 tz: dt.tzinfo | None = None, clock: Callable[[], dt.datetime] | None = None,
                 staff_names: dict[str, str] | None = None) -> None:
        self.sessions = make_sessionmaker(database_url)
        self.staff_names = dict(staff_names or {})  # login -> the name citizens read; none: 工作人员 only
        self.ask_bot = ask
        self.hours = hours
        self.tz = tz or BEIJING
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.turns = TurnLocks()  # one turn at a time per conversation (in this process; see _one_turn)
        self.changes = Changes()  # messages added by this process, for long polls (see the API's /messages)
        event.listen(self.sessions, "after_commit", self._committed)
        event.listen(self.sessions, "after_rollback", lambda db: db.info.pop("written", None))

    def _committed(self, db: Any) -> None:
        written = db.info.pop("written", None)
        if written:
            self.changes.bump(written)

    # -- citizens -----------------------------------------------------------------------------------
    def start(self, channel: str) -> str:
        now = self.clock()
        conversation_id = uuid.uuid4().hex
        with self.sessions.begin() as db:
            db.add(Conversation(id=conversation_id, channel=channel, status="bot",
                                dialogue=Session(id=conversation_id, channel=channel).model_dump(),
                                created_at=now, updated_at=now))
        return conversation_id

    def channel(self, conversation_id: str) -> str:
        """The channel that started the conversation; raises DeskError for an unknown one."""
        with self.sessions() as db:
            return self._conversation(db, conversation_id).channel

    def ask(self, conversation_id: str, question: str, *, hall_id: str | None = None,
            region: str | None = None) -> tuple[Answer | None, HandoffStatus, int]:
        """A citizen's message. Returns the bot's answer (None while a person handles the
        conversation), the handoff status, and the stored message id of the reply (or question).

        Two messages of one conversation sent at once (a double click, a kiosk retrying) are answered
        one after the other, so neither answer is built on a dialogue state the other overwrites.
        """
        question = clean_text(question).strip()
        if not question:
            raise DeskError("the question is empty")
        with self._one_turn(conversation_id):
            return self._ask(conversation_id, question, hall_id, region)

    @contextmanager
    def _one_turn(self, conversation_id: str) -> Iterator[None]:
        """Hold the conversation for one turn: in this process, and on PostgreSQL also against the other
        processes sharing the database (a transaction-level advisory lock, released however the turn ends)."""
        with self.turns.hold(conversation_id):
            engine = self.sessions.kw["bind"]
            if engine.dialect.name != "postgresql":
                yield
                return
            key = int.from_bytes(hashlib.blake2b(conversation_id.encode(), digest_size=8).digest(), "big", signed=True)
            with engine.begin() as connection:
                connection.execute(select(func.pg_advisory_xact_lock(key)))
                yield

    def _ask(self, conversation_id: str, question: str, hall_id: str | None,
             region: str | None) -> tuple[Answer | None, HandoffStatus, int]:
        with self.sessions.begin() as db:
            conversation = self._conversation(db, conversation_id)
            self._add(db, conversation_id, "user", question)
            if conversation.status in WITH_PERSON:
                self._present(db, conversation_id)
                if not self._lapse(db, conversation, self.clock()):
                    conversation.updated_at = self.clock()
                    return None, self._status(db, conversation), 0
            session = Session.model_validate(conversation.dialogue)
            if region:
                session.region = region
        answer = self.ask_bot(question, session, hall_id)
        hotline = not called_hotline([t.content for t in session.turns if t.role == "user"] + [question])
        if answer.decision == "refuse" and not self.available():  # 转人工 then leaves a ticket; at a kiosk, the 咨询台
            answer = answer.model_copy(update={"text": answer.text + (NOBODY_AT_KIOSK if hall_id else NOBODY_NOW)})
        with self.sessions.begin() as db:
            conversation = self._conversation(db, conversation_id)
            conversation.dialogue = _stored_session(session)
            conversation.updated_at = self.clock()
            message = self._add(db, conversation_id, "assistant", answer.text, decision=answer.decision,
                                detail={"citations": [c.model_dump() for c in answer.citations],
                                        "suggestions": answer.suggestions, "confidence": answer.confidence})
            db.flush()
            message_id = message.id
        if answer.decision == "handoff":
            status = self.request_handoff(conversation_id, answer.handoff_reason or "requested")
            answer = handoff_reply(answer, self.status_text(status, at_kiosk=hall_id is not None,  # kiosks: in a hall
                                                            hotline=hotline))
            with self.sessions.begin() as db:  # the transcript keeps what the citizen was told
                db.execute(update(Message).where(Message.id == message_id).values(content=redact(answer.text)))
        else:
            status = self.status(conversation_id)
        return answer, status, message_id

    def request_handoff(self, conversation_id: str, reason: str = "requested", *,
                        announce: bool = False) -> HandoffStatus:
        """Queue the conversation for an agent, or, when nobody can take it now, leave a request with a
        ticket number that an agent takes later (state ``callback``). ``announce``: also write what the
        citizen is told into the transcript (a page's 转人工 button; the bot's own handoff says it in its
        answer)."""
        now = self.clock()
        with self.sessions.begin() as db:
            conversation = self._conversation(db, conversation_id)
            if conversation.status in WITH_PERSON:
                return self._status(db, conversation)
            if self._agents_online(db, now) and self._in_hours(now):
                db.add(Handoff(conversation_id=conversation_id, reason=reason, status="waiting", created_at=now))
                conversation.status = "waiting"
                why = REASONS.get(reason, reason)
                self._add(db, conversation_id, "system", f"已转人工（原因：{why}），等待工作人员接入。", staff=True)
            else:
                left = db.scalar(select(Handoff).where(Handoff.conversation_id == conversation_id,
                                                       Handoff.status == "callback").order_by(Handoff.id.desc()))
                if left is not None:  # asked again before anyone took the first request: one ticket
                    left.reason = "complaint" if "complaint" in (left.reason, reason) else left.reason
                    return self._status(db, conversation)
                ticket, _ = self._numbered(db, now, lambda number: db.add(Handoff(
                    conversation_id=conversation_id, reason=reason, status="callback", ticket=number, created_at=now)))
                self._add(db, conversation_id, "system", f"暂无工作人员在线，已登记留言，编号 {ticket}。", staff=True)
            conversation.updated_at = now
            db.flush()
            status = self._status(db, conversation)
            if announce:
                self._add(db, conversation_id, "system", self.status_text(status))
            return status

    def status(self, conversation_id: str) -> HandoffStatus:
        """The handoff state; asking is being there (pages ask every few seconds while a person may write)."""
        now = self.clock()
        with self.sessions.begin() as db:
            conversation = self._conversation(db, conversation_id)
            if conversation.status in WITH_PERSON:
                self._present(db, conversation_id)
                self._lapse(db, conversation, now)
            if conversation.status == "waiting":
                self._lapse_absent(db, now)  # the place in line counts only those still there
            return self._status(db, conversation)

    def available(self) -> bool:
        """Can a person take a conversation now (an agent online, within service hours)?"""
        now = self.clock()
        with self.sessions.begin() as db:
            return self._agents_online(db, now) and self._in_hours(now)

    def status_text(self, status: HandoffStatus, *, at_kiosk: bool = False, hotline: bool = True) -> str:
        """What the citizen reads about the handoff; ``at_kiosk``: they will walk away from the screen;
        ``hotline``: mention 12345 (not to a citizen who has already called it)."""
        if status.state == "waiting":
            ahead = max((status.position or 1) - 1, 0)
            place = f"您前面还有 {ahead} 位" if ahead else "您是下一位"
            return f"已为您转接人工服务，{place}，请稍候。"
        if status.state == "agent":
            return f"{agent_label(status.agent)}已接入，请直接输入您的问题。"
        if status.state == "callback":
            if at_kiosk:
                then = (f"急事请拨打 {HOTLINE} 政务服务便民热线，或到大厅咨询台咨询。" if hotline
                        else "您也可以到大厅咨询台反映。")
            else:
                then = "工作人员上班后会在本对话中回复您" + (
                    f"；急事请拨打 {HOTLINE} 政务服务便民热线。" if hotline else "。")
            what = "投诉" if status.reason == "complaint" else ""
            return f"现在暂无工作人员在线（或已过服务时间），已为您登记{what}，编号 {status.ticket}。{then}"
        return ""

    def messages(self, conversation_id: str, after: int = 0, *, citizen: bool = False,
                 limit: int | None = None) -> list[dict[str, Any]]:
        """The transcript (redacted), oldest first, only messages with an id above ``after`` and at most
        ``limit`` of them (None: all); ``citizen``:
        without the notes for staff (why it was handed off, a ticket the citizen was already told), and
        with agents by the name citizens read (``staff_names``), not by login. A citizen's page asking
        for them while a person may write is there (see ``CITIZEN_GONE_SECONDS``)."""
        with self.sessions.begin() as db:
            conversation = self._conversation(db, conversation_id)
            if citizen and conversation.status in WITH_PERSON:
                self._present(db, conversation_id)
            shown: list[dict[str, Any]] = []
            while limit is None or len(shown) < limit:  # notes for staff are left out after the query: ask again
                query = select(Message).where(Message.conversation_id == conversation_id, Message.id > after)
                rows = db.scalars(query.order_by(Message.id).limit(limit)).all()
                shown += [{"id": m.id, "role": m.role,
                           "author": self.shown_name(m.author) if citizen and m.role == "agent" else m.author,
                           "content": m.content, "decision": m.decision, "detail": m.detail,
                           "created_at": m.created_at.isoformat()} for m in rows
                          if not (citizen and (m.detail or {}).get("staff"))]
                if limit is None or len(rows) < limit:
                    break
                after = rows[-1].id
            return shown[:limit]

    def feedback(self, conversation_id: str, rating: str, *, message_id: int | None = None,
                 reason: str | None = None) -> int:
        if rating not in ("up", "down"):
            raise DeskError(f"rating must be 'up' or 'down', got {rating!r}")
        with self.sessions.begin() as db:
            self._conversation(db, conversation_id)
            if message_id is not None:
                message = db.get(Message, message_id)
                if message is None or message.conversation_id != conversation_id:
                    raise DeskError(f"message {message_id} is not in conversation {conversation_id}")
            reason = clean_text(reason or "").strip()
            row = Feedback(conversation_id=conversation_id, message_id=message_id, rating=rating,
                           reason=redact(reason) if reason else None, created_at=self.clock())
            db.add(row)
            db.flush()
            return row.id

    # -- agents -------------------------------------------------------------------------------------
    def heartbeat(self, agent: str) -> None:
        with self.sessions.begin() as db:
            self._seen(db, agent)

    def _seen(self, db: Any, agent: str) -> None:
        presence = db.get(AgentPresence, agent)
        if presence is None:
            db.add(AgentPresence(agent=agent, last_seen=self.clock()))
        else:
            presence.last_seen = self.clock()

    def queue(self, *, left: bool = False) -> list[QueueEntry]:
        """Conversations waiting for an agent now, oldest first; with ``left``, the requests left while
        nobody was online or by citizens who went away (they have a ticket number)."""
        with self.sessions.begin() as db:
            self._lapse_absent(db, self.clock())
            return self._entries(db, db.execute(select(Handoff, Conversation).join(Conversation)
                                                .where(Handoff.status == ("callback" if left else "waiting"))
                                                .order_by(Handoff.id)).all())

    def mine(self, agent: str) -> list[QueueEntry]:
        """The conversations ``agent`` has claimed and not yet ended, oldest first: a console that was
        reloaded or opened on another screen finds them here, and claims one again to continue."""
        with self.sessions() as db:
            return self._entries(db, db.execute(
                select(Handoff, Conversation).join(Conversation)
                .where(Handoff.status == "claimed", Handoff.agent == agent, Conversation.status == "agent",
                       Conversation.agent == agent)
                .order_by(Handoff.id)).all())

    def _entries(self, db: Any, rows: Any) -> list[QueueEntry]:
        now = self.clock()
        # Each conversation's last question, in one query (the console asks every 2 s).
        newest = (select(func.max(Message.id)).where(Message.conversation_id.in_([c.id for _, c in rows]),
                                                     Message.role == "user").group_by(Message.conversation_id))
        last: dict[str, str] = {conversation_id: content for conversation_id, content in db.execute(
            select(Message.conversation_id, Message.content).where(Message.id.in_(newest)))}
        entries: dict[str, QueueEntry] = {}
        for handoff, conversation in rows:  # one line per conversation: its latest request
            entries[conversation.id] = QueueEntry(
                handoff.id, conversation.id, handoff.reason, conversation.channel,
                int((now - _aware(handoff.created_at)).total_seconds()), last.get(conversation.id, ""), handoff.ticket)
        return sorted(entries.values(), key=lambda e: e.handoff_id)

    def claim(self, handoff_id: int, agent: str) -> str:
        """Take a waiting conversation or a request left earlier; raises ClaimConflictError if someone else
        took it first. Every open request of the conversation is answered by this claim."""
        now = self.clock()
        with self.sessions.begin() as db:
            taken = db.execute(update(Handoff).where(Handoff.id == handoff_id, Handoff.status.in_(_OPEN))
                               .values(status="claimed", agent=agent, claimed_at=now))
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                holder = db.get(Handoff, handoff_id)
                if holder is None:
                    raise DeskError(f"no handoff request {handoff_id}")
                mine = db.get(Conversation, holder.conversation_id)
                if holder.status == "claimed" and holder.agent == agent and mine is not None and \
                        mine.status == "agent" and mine.agent == agent:
                    self._seen(db, agent)
                    return mine.id  # the agent's own conversation, opened again (a reloaded console)
                raise ClaimConflictError(f"handoff {handoff_id} is {holder.status} by {holder.agent or 'nobody'}")
            handoff = db.get(Handoff, handoff_id)
            assert handoff is not None
            db.execute(update(Handoff).where(Handoff.conversation_id == handoff.conversation_id,
                                             Handoff.status.in_(_OPEN))
                       .values(status="claimed", agent=agent, claimed_at=now))
            conversation = self._conversation(db, handoff.conversation_id)
            conversation.status, conversation.agent, conversation.updated_at = "agent", agent, now
            self._seen(db, agent)  # claiming is being there
            self._add(db, conversation.id, "system", f"{agent_label(self.shown_name(agent))}已接入。")
            return conversation.id

    def reply(self, conversation_id: str, agent: str, text: str) -> int:
        text = clean_text(text).strip()
        if not text:
            raise DeskError("the reply is empty")
        with self.sessions.begin() as db:
            conversation = self._owned(db, conversation_id, agent)
            self._seen(db, agent)
            message = self._add(db, conversation.id, "agent", text, author=agent)
            conversation.updated_at = self.clock()
            db.flush()
            return message.id

    def hand_back(self, conversation_id: str, agent: str) -> None:
        """The bot answers again; the dialogue state is kept."""
        self._end(conversation_id, agent, "returned", "bot", "工作人员已将对话交回智能助手，您可以继续提问。")

    def close(self, conversation_id: str, agent: str) -> None:
        self._end(conversation_id, agent, "closed", "closed", "本次服务已结束，感谢您的耐心。")

    def leave(self, conversation_id: str) -> HandoffStatus:
        """The citizen ends the conversation (a kiosk's 重新开始, the chat's clear button): a request still
        waiting is withdrawn, so no agent claims a conversation nobody reads, and an agent connected to it
        is told. A request left with a ticket stays: it is answered later by its number."""
        now = self.clock()
        with self.sessions.begin() as db:
            conversation = self._conversation(db, conversation_id)
            if conversation.status not in WITH_PERSON:
                return self._status(db, conversation)
            db.execute(update(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status == "waiting")
                       .values(status="withdrawn", ended_at=now))
            db.execute(update(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status == "claimed")
                       .values(status="closed", ended_at=now))
            conversation.status, conversation.agent, conversation.updated_at = "closed", None, now
            self._add(db, conversation_id, "system", "群众已离开，本次对话已结束。")
            db.flush()
            return self._status(db, conversation)

    def _end(self, conversation_id: str, agent: str, handoff_state: str, state: str, note: str) -> None:
        now = self.clock()
        with self.sessions.begin() as db:
            conversation = self._owned(db, conversation_id, agent)
            db.execute(update(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status == "claimed")
                       .values(status=handoff_state, ended_at=now))
            conversation.status, conversation.agent, conversation.updated_at = state, None, now
            session = Session.model_validate(conversation.dialogue)
            session.failures = 0
            conversation.dialogue = _stored_session(session)
            self._add(db, conversation_id, "system", note)

    def ping(self) -> None:
        """Raises if the database cannot be reached (for health checks)."""
        with self.sessions() as db:
            db.execute(select(1))

    # -- reports for staff ---------------------------------------------------------------------------
    def report(self, since: dt.datetime, *, top: int = 20) -> dict[str, Any]:
        """What happened since ``since``: traffic, the bot's decisions, handoffs, ratings, and what to
        improve: the questions it could not answer and the answers rated down (texts already redacted)."""
        since = _aware(since)
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

    # -- helpers ------------------------------------------------------------------------------------
    def _conversation(self, db: Any, conversation_id: str) -> Conversation:
        conversation = db.get(Conversation, conversation_id)
        if conversation is None:
            raise DeskError(f"no conversation {conversation_id!r}")
        return conversation  # type: ignore[no-any-return]

    def _owned(self, db: Any, conversation_id: str, agent: str) -> Conversation:
        conversation = self._conversation(db, conversation_id)
        if conversation.status != "agent" or conversation.agent != agent:
            raise DeskError(f"conversation {conversation_id} is not handled by {agent}")
        return conversation

    def _add(self, db: Any, conversation_id: str, role: str, content: str, *, author: str | None = None,
             decision: str | None = None, detail: dict[str, Any] | None = None, staff: bool = False) -> Message:
        detail = {**(detail or {}), **({"staff": True} if staff else {})}  # staff: a note citizens are not shown
        message = Message(conversation_id=conversation_id, role=role, author=author,
                          content=redact(clean_text(content)), decision=decision, detail=detail,
                          created_at=self.clock())
        db.add(message)
        db.info.setdefault("written", set()).add(conversation_id)  # counted in self.changes once committed
        return message

    def _status(self, db: Any, conversation: Conversation) -> HandoffStatus:
        latest = db.scalar(select(Handoff).where(Handoff.conversation_id == conversation.id)
                           .order_by(Handoff.id.desc()).limit(1))
        if conversation.status == "waiting" and latest is not None:
            ahead = db.scalar(select(func.count()).select_from(Handoff)
                              .where(Handoff.status == "waiting", Handoff.id < latest.id))
            return HandoffStatus("waiting", position=(ahead or 0) + 1, reason=latest.reason)
        if conversation.status == "agent":
            return HandoffStatus("agent", agent=self.shown_name(conversation.agent),
                                 reason=latest.reason if latest else None)
        if latest is not None and latest.status == "callback" and conversation.status == "bot":
            return HandoffStatus("callback", ticket=latest.ticket, reason=latest.reason)
        return HandoffStatus(conversation.status)

    def shown_name(self, agent: str | None) -> str | None:
        """The name citizens read for an agent's login (None: they read 工作人员 only)."""
        return self.staff_names.get(agent) if agent else None

    def _present(self, db: Any, conversation_id: str) -> None:
        now = self.clock()
        presence = db.get(CitizenPresence, conversation_id)
        if presence is None:
            db.add(CitizenPresence(conversation_id=conversation_id, last_seen=now))
        elif _aware(presence.last_seen) < now - dt.timedelta(seconds=30):  # not a write on every 2-second poll
            presence.last_seen = now

    def _lapse_absent(self, db: Any, now: dt.datetime) -> None:
        """Waiting requests whose citizen's page stopped asking (closed, or gone for minutes) lapse."""
        gone = now - dt.timedelta(seconds=CITIZEN_GONE_SECONDS)
        rows = db.execute(select(Conversation, Handoff.created_at, CitizenPresence.last_seen)
                          .join(Handoff, Handoff.conversation_id == Conversation.id)
                          .outerjoin(CitizenPresence, CitizenPresence.conversation_id == Conversation.id)
                          .where(Conversation.status == "waiting", Handoff.status == "waiting")).all()
        for conversation, asked, seen in rows:
            last = max(_aware(asked), _aware(seen)) if seen is not None else _aware(asked)
            if last < gone and conversation.status == "waiting":
                self._lapse(db, conversation, now, absent=True)

    def _lapse(self, db: Any, conversation: Conversation, now: dt.datetime, *, absent: bool = False) -> bool:
        """A conversation left with nobody: waiting while no agent is online any more (the consoles closed,
        office hours over), or with an agent whose console stopped polling; or (``absent``) waiting while
        the citizen's page stopped asking. It becomes a request left with a ticket, which any agent takes
        later, and the bot answers again meanwhile; otherwise the citizen would write into the void, or an
        agent would take a conversation nobody reads. Returns whether it lapsed."""
        if conversation.status == "waiting" and absent:
            note = "您离开了一段时间，已为您登记留言，编号 {ticket}，工作人员会在本对话中回复您；智能助手继续为您解答。"
            held = Handoff.status == "waiting"
        elif conversation.status == "waiting":
            if self._agents_online(db, now) and self._in_hours(now):
                return False
            note = "工作人员暂时不在线，已为您登记留言，编号 {ticket}，智能助手继续为您解答。"
            held = Handoff.status == "waiting"
        elif conversation.status == "agent":
            seen = db.get(AgentPresence, conversation.agent) if conversation.agent else None
            if seen is not None and _aware(seen.last_seen) >= now - dt.timedelta(seconds=AGENT_ONLINE_SECONDS):
                return False
            note = "工作人员已离开，已为您登记留言，编号 {ticket}，智能助手继续为您解答。"
            held = Handoff.status == "claimed"
        else:
            return False
        requests = db.scalars(select(Handoff).where(Handoff.conversation_id == conversation.id, held)
                              .order_by(Handoff.id.desc())).all()
        if not requests:
            return False

        def lapse(number: str) -> int:
            done = db.execute(update(Handoff).where(Handoff.id == requests[0].id, held).values(
                status="callback", ticket=number, agent=None, claimed_at=None))
            return int(done.rowcount)  # 0: another process lapsed it a moment ago

        ticket = requests[0].ticket  # a request left earlier keeps its number
        if ticket:
            lapsed = lapse(ticket)
        else:
            ticket, lapsed = self._numbered(db, now, lapse)
        if lapsed == 0:
            return False  # another process lapsed it a moment ago
        db.execute(update(Handoff).where(Handoff.id.in_([r.id for r in requests[1:]]), held)
                   .values(status="returned", ended_at=now))  # one open request per conversation
        conversation.status, conversation.agent, conversation.updated_at = "bot", None, now
        self._add(db, conversation.id, "system", note.format(ticket=ticket))
        db.flush()
        return True

    def _numbered(self, db: Any, now: dt.datetime, write: Callable[[str], T]) -> tuple[str, T]:
        """Write with the day's next ticket number (HB + date + 4 digits); when another process took that
        number a moment ago (the column is unique), take the next one. Returns the number and what
        ``write`` returned."""
        day = now.astimezone(self.tz).strftime("%Y%m%d")
        for _ in range(20):
            last = db.scalar(select(func.max(Handoff.ticket)).where(Handoff.ticket.like(f"HB{day}%")))
            ticket = f"HB{day}{int(last[10:]) + 1 if last else 1:04d}"
            try:
                with db.begin_nested():
                    written = write(ticket)
            except IntegrityError:
                continue
            return ticket, written
        raise DeskError("could not number the request: too many at the same moment")

    def _agents_online(self, db: Any, now: dt.datetime) -> bool:
        since = now - dt.timedelta(seconds=AGENT_ONLINE_SECONDS)
        seen = db.scalars(select(AgentPresence.last_seen)).all()
        return any(_aware(t) >= since for t in seen)

    def _in_hours(self, now: dt.datetime) -> bool:
        if self.hours is None:
            return True
        local = now.astimezone(self.tz)
        start, end = self.hours
        return local.weekday() < 5 and start <= local.time() <= end


def keep_purging(desk: Desk, older_than: dt.timedelta, stop: threading.Event,
                 every: dt.timedelta = dt.timedelta(hours=24)) -> None:
    """Purge now and then every ``every`` until ``stop`` is set (the server runs this in a thread)."""
    while not stop.is_set():
        try:
            desk.purge(older_than)
        except Exception:  # noqa: BLE001 - a failed purge must not stop the service; the log tells
            logger.exception("retention purge failed")
        stop.wait(every.total_seconds())


_OPEN = ("waiting", "callback")  # handoff requests no agent has taken yet


def _first_title(message: Message | None) -> str | None:
    citations = message.detail.get("citations") if message is not None else None
    return str(citations[0]["title"]) if citations else None


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite drops the zone on the way back; every stored time is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _stored_session(session: Session) -> dict[str, Any]:
    data = session.model_dump()
    data["turns"] = [{"role": t["role"], "content": redact(t["content"])} for t in data["turns"]]
    return data
