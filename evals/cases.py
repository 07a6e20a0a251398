"""Evaluation cases (the JSONL format of knowledge-format.md) as typed records."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from knowledge.errors import KnowledgeError
from knowledge.loader import read_records, validate

VAGUE_MAX_CHARS = 2  # a question this short ("个人", "备案") is tagged "vague": it needs a clarifying question


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    role: Literal["user", "assistant"]
    content: str


class EvalCase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    history: list[Turn] = []
    region: str | None = None
    channel: str = "web"
    expected_ids: list[str] = []
    expected_facts: list[str] = []
    expect: Literal["answer", "clarify", "refuse", "handoff"] = "answer"
    tags: list[str] = []

    @property
    def all_tags(self) -> list[str]:
        """Own tags plus derived ones: ``expect-<decision>``, and ``vague`` for very short questions."""
        derived = [f"expect-{self.expect}"]
        if len(self.question.strip()) <= VAGUE_MAX_CHARS:
            derived.append("vague")
        return [*self.tags, *derived]


def load_cases(paths: list[Path]) -> list[EvalCase]:
    """Read cases; raises KnowledgeError listing every bad line, since a bad eval set is not run."""
    cases: list[EvalCase] = []
    problems: list[str] = []
    seen: set[str] = set()
    for path in paths:
        if not path.is_file():
            raise KnowledgeError(f"{path}: no such case file")
        for position, raw in read_records(path):
            result = validate(EvalCase, raw, str(path), position)
            if isinstance(result, EvalCase):
                if result.id in seen:
                    problems.append(f"{path} #{position}: duplicate case id {result.id!r}")
                seen.add(result.id)
                cases.append(result)
            else:
                problems.append(str(result))
    if problems:
        raise KnowledgeError("bad evaluation cases:\n  " + "\n  ".join(problems))
    return cases
