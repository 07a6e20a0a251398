"""The service desk: conversations that persist, and a real handoff queue to human agents.

A citizen's turn is answered by the bot while the conversation is the bot's; when the citizen asks
for a person, complains, or the bot fails twice, the conversation joins the queue with its
transcript. An agent claims it (only one can), replies, and hands it back to the bot or closes it.
With no agent online, or outside service hours, the citizen gets a ticket number and the 12345
hotline instead of silence, and the request waits in the console's list of 留言 until an agent takes
it and replies in the conversation. Every stored text is redacted first.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select, update

from assistant.answer import Answer
from assistant.clean import clean_text
from assistant.intent import HOTLINE, called_hotline
from assistant.redact import redact
from assistant.replies import agent_label, handoff_reply
from assistant.session import Session
from desk.base import DeskBase, stored_session
from desk.store import (
    AgentPresence,
    Conversation,
    Feedback,
    Handoff,
    Message,
)
from desk.types import (
    NOBODY_AT_KIOSK,
    NOBODY_NOW,
    OPEN,
    REASONS,
    WITH_PERSON,
    ClaimConflictError,
    DeskError,
    HandoffStatus,
    QueueEntry,
    aware,
)

logger = logging.getLogger(__name__)


class Desk(DeskBase):
    """The service desk: the citizens' side (turns, handoff requests, ratings) and the agents' (the queue,
    claims, replies); the database and helpers are DeskBase's, reports and retention Records'."""

    # -- citizens -----------------------------------------------------------------------------------
    def start(self, channel: str) -> str:
        conversation_id = uuid.uuid4().hex
        with self.sessions.begin() as db:
            db.add(self._new_conversation(conversation_id, channel))
        return conversation_id

    def _new_conversation(self, conversation_id: str, channel: str) -> Conversation:
        now = self.clock()
        return Conversation(id=conversation_id, channel=channel, status="bot",
                            dialogue=Session(id=conversation_id, channel=channel).model_dump(),
                            created_at=now, updated_at=now)

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

    def start_and_ask(self, channel: str, question: str, *, hall_id: str | None = None,
                      region: str | None = None) -> tuple[str, Answer | None, HandoffStatus, int]:
        """``start`` and ``ask`` for a new conversation's first message, in one transaction fewer and without the
        turn lock (no other request can know the id before this one returns it). Returns the id first."""
        question = clean_text(question).strip()
        if not question:
            raise DeskError("the question is empty")
        conversation_id = uuid.uuid4().hex
        return (conversation_id, *self._ask(conversation_id, question, hall_id, region, new=channel))

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
             region: str | None, *, new: str | None = None) -> tuple[Answer | None, HandoffStatus, int]:
        """The turn; ``new``: the channel of a conversation started by this message."""
        with self.sessions.begin() as db:
            if new is None:
                conversation = self._conversation(db, conversation_id)
            else:
                conversation = self._new_conversation(conversation_id, new)
                db.add(conversation)
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
            conversation.dialogue = stored_session(session)
            conversation.updated_at = self.clock()
            message = self._add(db, conversation_id, "assistant", answer.text, decision=answer.decision,
                                detail={"citations": [c.model_dump() for c in answer.citations],
                                        "suggestions": answer.suggestions, "confidence": answer.confidence})
            db.flush()
            message_id = message.id
            status = self._current(db, conversation) if answer.decision != "handoff" else None
        if answer.decision == "handoff":
            status = self.request_handoff(conversation_id, answer.handoff_reason or "requested")
            answer = handoff_reply(answer, self.status_text(status, at_kiosk=hall_id is not None,  # kiosks: in a hall
                                                            hotline=hotline))
            with self.sessions.begin() as db:  # the transcript keeps what the citizen was told
                db.execute(update(Message).where(Message.id == message_id).values(content=redact(answer.text)))
        assert status is not None
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
        with self.sessions.begin() as db:
            return self._current(db, self._conversation(db, conversation_id))

    def _current(self, db: Any, conversation: Conversation) -> HandoffStatus:
        now = self.clock()
        if conversation.status in WITH_PERSON:
            self._present(db, conversation.id)
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
                int((now - aware(handoff.created_at)).total_seconds()), last.get(conversation.id, ""), handoff.ticket)
        return sorted(entries.values(), key=lambda e: e.handoff_id)

    def claim(self, handoff_id: int, agent: str) -> str:
        """Take a waiting conversation or a request left earlier; raises ClaimConflictError if someone else
        took it first. Every open request of the conversation is answered by this claim."""
        now = self.clock()
        with self.sessions.begin() as db:
            taken = db.execute(update(Handoff).where(Handoff.id == handoff_id, Handoff.status.in_(OPEN))
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
                                             Handoff.status.in_(OPEN))
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
            conversation.dialogue = stored_session(session)
            self._add(db, conversation_id, "system", note)
