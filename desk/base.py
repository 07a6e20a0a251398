"""The desk's foundation: the database, its sessions and change counters, and the helpers both sides use
(tickets, presence, service hours)."""


from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError

from assistant.clean import clean_text
from assistant.redact import redact
from assistant.session import Session
from desk.records import Records
from desk.store import (
    AgentPresence,
    CitizenPresence,
    Conversation,
    Handoff,
    Message,
    make_sessionmaker,
)
from desk.types import (
    AGENT_ONLINE_SECONDS,
    BEIJING,
    CITIZEN_GONE_SECONDS,
    Ask,
    Changes,
    DeskError,
    HandoffStatus,
    T,
    TurnLocks,
    aware,
)

logger = logging.getLogger(__name__)


class DeskBase(Records):
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

    def ping(self) -> None:
        """Raises if the database cannot be reached (for health checks)."""
        with self.sessions() as db:
            db.execute(select(1))

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
        elif aware(presence.last_seen) < now - dt.timedelta(seconds=30):  # not a write on every 2-second poll
            presence.last_seen = now

    def _lapse_absent(self, db: Any, now: dt.datetime) -> None:
        """Waiting requests whose citizen's page stopped asking (closed, or gone for minutes) lapse."""
        gone = now - dt.timedelta(seconds=CITIZEN_GONE_SECONDS)
        rows = db.execute(select(Conversation, Handoff.created_at, CitizenPresence.last_seen)
                          .join(Handoff, Handoff.conversation_id == Conversation.id)
                          .outerjoin(CitizenPresence, CitizenPresence.conversation_id == Conversation.id)
                          .where(Conversation.status == "waiting", Handoff.status == "waiting")).all()
        for conversation, asked, seen in rows:
            last = max(aware(asked), aware(seen)) if seen is not None else aware(asked)
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
            if seen is not None and aware(seen.last_seen) >= now - dt.timedelta(seconds=AGENT_ONLINE_SECONDS):
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
        return any(aware(t) >= since for t in seen)

    def _in_hours(self, now: dt.datetime) -> bool:
        if self.hours is None:
            return True
        local = now.astimezone(self.tz)
        start, end = self.hours
        return local.weekday() < 5 and start <= local.time() <= end




def stored_session(session: Session) -> dict[str, Any]:
    data = session.model_dump()
    data["turns"] = [{"role": t["role"], "content": redact(t["content"])} for t in data["turns"]]
    return data
