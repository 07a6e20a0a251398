"""Answers citizens rated down (差评), reviewed by staff in the console; one can become an evaluation case.

A rating is reviewed once: saved as a case in the JSONL format ``banshi eval`` reads (knowledge-format.md), or set
aside; either way the console stops listing it. The texts come from the database, already redacted, and what
staff type is redacted before it is written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Container
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from assistant.clean import clean_text
from assistant.redact import redact
from desk.store import Conversation, Feedback, FeedbackReview, Message
from desk.types import MAX_QUESTION_CHARS
from knowledge.errors import BanshiError

EXPECTS = {"answer": "回答", "clarify": "反问", "refuse": "拒答", "handoff": "转人工"}  # a case's expected decision
MAX_HISTORY = 10  # earlier turns kept with a case (the assistant's dialogue state needs the last few)


class ReviewError(BanshiError):
    """A rating that cannot be reviewed, or a case that cannot be saved; the message, in Chinese, is for staff."""


@dataclass(frozen=True)
class DislikedAnswer:
    feedback_id: int
    conversation_id: str
    channel: str
    rated_at: dt.datetime  # aware, UTC
    reason: str | None  # what the citizen chose or wrote
    question: str  # the citizen's message the answer replied to ("" when there was none)
    answer: str
    decision: str | None
    cited: tuple[str, ...]  # guide ids the answer cited, first first
    history: tuple[tuple[str, str], ...]  # earlier (role, text) turns of the citizen and the assistant, oldest first
    region: str | None  # the citizen's district as the dialogue state holds it


@dataclass(frozen=True)
class CaseDraft:
    """An evaluation case as staff filled it in."""

    question: str
    expected_ids: tuple[str, ...]
    expected_facts: tuple[str, ...]
    expect: str
    region: str | None = None
    channel: str = "web"
    history: tuple[tuple[str, str], ...] = ()

    def problems(self, known_ids: Container[str]) -> list[str]:
        """What keeps the case from being saved, in Chinese; empty when it can be."""
        problems = []
        question = self.question.strip()
        if not question:
            problems.append("问题不能为空。")
        elif len(question) > MAX_QUESTION_CHARS:
            problems.append(f"问题有 {len(question)} 字，最多 {MAX_QUESTION_CHARS} 字。")
        if self.expect not in EXPECTS:
            problems.append(f"预期处理只能是{'、'.join(EXPECTS.values())}之一，收到的是“{self.expect}”。")
        unknown = [i for i in self.expected_ids if i not in known_ids]
        if unknown:
            problems.append(f"知识库中没有这些指南编号：{'、'.join(unknown)}。")
        if self.expect == "answer" and not self.expected_ids:
            problems.append("预期处理为“回答”时，请至少填写一个预期指南编号。")
        return problems

    def record(self, case_id: str) -> dict[str, Any]:
        """The case as a line of a cases file (the keys and order of knowledge-format.md)."""
        return {"id": case_id, "question": _clean(self.question),
                "history": [{"role": role, "content": text} for role, text in self.history],
                "region": self.region, "channel": self.channel, "expected_ids": list(self.expected_ids),
                "expected_facts": [_clean(f) for f in self.expected_facts], "expect": self.expect,
                "tags": ["feedback"]}


class FeedbackReviews:
    """The 差评 of the desk's database (``sessions``) for review; saved cases are appended to ``cases``."""

    def __init__(self, sessions: sessionmaker, cases: Path, *,  # type: ignore[type-arg]
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.sessions = sessions
        self.cases = cases
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._writing = threading.Lock()

    def disliked(self, *, limit: int = 50) -> list[DislikedAnswer]:
        """The answers rated down and not reviewed yet, newest first, ``limit`` at most. A rating of a person's
        reply is no answer of the assistant's and is not listed."""
        if limit < 1:
            raise ValueError(f"limit must be greater than 0. Currently, limit is {limit}")
        with self.sessions() as db:
            rows = db.execute(
                select(Feedback, Conversation).join(Conversation, Feedback.conversation_id == Conversation.id)
                .outerjoin(Message, Feedback.message_id == Message.id)
                .where(Feedback.rating == "down", Feedback.id.not_in(select(FeedbackReview.feedback_id)),
                       or_(Feedback.message_id.is_(None), Message.role == "assistant"))
                .order_by(Feedback.id.desc()).limit(limit)).all()
            return [self._disliked(db, feedback, conversation) for feedback, conversation in rows]

    def _disliked(self, db: Any, feedback: Feedback, conversation: Conversation) -> DislikedAnswer:
        query = select(Message).where(Message.conversation_id == conversation.id,
                                      Message.role.in_(("user", "assistant")))
        # The message rated, or (a rating of the whole conversation) the last answer before the rating.
        query = query.where(Message.id <= feedback.message_id) if feedback.message_id is not None else \
            query.where(Message.created_at <= feedback.created_at)
        turns = list(reversed(db.scalars(query.order_by(Message.id.desc()).limit(MAX_HISTORY + 2)).all()))
        while turns and turns[-1].role != "assistant":
            turns.pop()
        answer = turns.pop() if turns else None
        question = turns.pop() if turns and turns[-1].role == "user" else None
        region = (conversation.dialogue or {}).get("region")
        return DislikedAnswer(
            feedback.id, conversation.id, conversation.channel, _aware(feedback.created_at), feedback.reason,
            question.content if question else "", answer.content if answer else "",
            answer.decision if answer else None,
            tuple(dict.fromkeys(c["guide_id"] for c in (answer.detail or {}).get("citations", []))) if answer else (),
            tuple((t.role, t.content) for t in turns[-MAX_HISTORY:]), region if isinstance(region, str) else None)

    def save_case(self, feedback_id: int, draft: CaseDraft, agent: str, known_ids: Container[str]) -> str:
        """Append ``draft`` to the cases file with a new id and mark the rating reviewed; returns the case id.

        Raises ReviewError (nothing written) when the case is not valid or the rating was already reviewed."""
        problems = draft.problems(known_ids)
        if problems:
            raise ReviewError("未保存：" + "".join(problems))
        case_id = f"fb-{feedback_id}-{uuid.uuid4().hex[:8]}"
        line = json.dumps(draft.record(case_id), ensure_ascii=False) + "\n"
        with self._writing, self.sessions.begin() as db:
            self._review(db, feedback_id, agent, case_id)
            try:
                self._append(line.encode("utf-8"))
            except OSError as err:  # the rating stays unreviewed: the transaction rolls back
                raise ReviewError(f"未保存：无法写入用例文件 {self.cases}（{err.strerror}）。") from err
        return case_id

    def set_aside(self, feedback_id: int, agent: str) -> None:
        """Mark the rating reviewed without saving a case; raises ReviewError as :meth:`save_case`."""
        with self.sessions.begin() as db:
            self._review(db, feedback_id, agent, None)

    def _review(self, db: Any, feedback_id: int, agent: str, case_id: str | None) -> None:
        feedback = db.get(Feedback, feedback_id)
        if feedback is None or feedback.rating != "down":
            raise ReviewError(f"没有编号为 {feedback_id} 的差评（可能已过保存期限被删除）。")
        if db.get(FeedbackReview, feedback_id) is not None:
            raise ReviewError(f"差评 {feedback_id} 已处理过。")
        try:
            with db.begin_nested():
                db.add(FeedbackReview(feedback_id=feedback_id, conversation_id=feedback.conversation_id, agent=agent,
                                      case_id=case_id, reviewed_at=self.clock()))
        except IntegrityError as err:  # another console marked it a moment ago
            raise ReviewError(f"差评 {feedback_id} 已处理过。") from err

    def _append(self, data: bytes) -> None:
        """One write to the end of the cases file, after a line break if the file lacks its last one."""
        self.cases.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.cases, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(descriptor).st_size
            if size:
                with self.cases.open("rb") as existing:
                    existing.seek(size - 1)
                    if existing.read(1) != b"\n":
                        data = b"\n" + data
            os.write(descriptor, data)
        finally:
            os.close(descriptor)


def parse_ids(text: str) -> tuple[str, ...]:
    """Guide ids as staff type them: separated by spaces, commas or 、, each once."""
    return tuple(dict.fromkeys(i for i in re.split(r"[\s,，、;；]+", text or "") if i))


def parse_facts(text: str) -> tuple[str, ...]:
    """Expected facts, one a line, each once."""
    return tuple(dict.fromkeys(line.strip() for line in (text or "").splitlines() if line.strip()))


def _clean(text: str) -> str:
    return redact(clean_text(text)).strip()


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite drops the zone; stored as UTC
