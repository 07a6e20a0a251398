"""What the desk's parts share: its errors, the states and texts of a handoff, the queue's rows, the locks of one
turn at a time and the change counters that wake long polls."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from assistant.answer import Answer
from assistant.session import Session
from knowledge.errors import BanshiError

# Added to a refusal while nobody can take a conversation: what 转人工 does then.
NOBODY_NOW = "\n\n现在暂无工作人员在线，点“转人工”可为您登记留言，工作人员上班后会在本对话中回复您。"
NOBODY_AT_KIOSK = "\n\n现在暂无工作人员在线，您可以到大厅咨询台咨询。"  # the citizen will walk away from the screen
BEIJING = dt.timezone(dt.timedelta(hours=8))  # service hours, ticket dates and reports are in 北京时间
OPEN = ("waiting", "callback")  # handoff requests no agent has taken yet
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


def aware(moment: dt.datetime) -> dt.datetime:
    # SQLite drops the zone on the way back; every stored time is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
