"""The answer object every channel renders: web markdown, kiosk speech, cards, citations."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Decision = Literal["answer", "clarify", "refuse", "handoff", "chat"]  # chat: a greeting, thanks, goodbye


class Citation(BaseModel):
    model_config = ConfigDict(frozen=True)
    guide_id: str
    section: str
    title: str
    url: str | None = None


class Card(BaseModel):
    model_config = ConfigDict(frozen=True)
    guide_id: str
    name: str
    who: str | None = None  # 谁能办
    where: str | None = None  # 在哪办
    how: str | None = None  # 如何办
    materials: list[str] = []


class Answer(BaseModel):
    model_config = ConfigDict(frozen=True)
    text: str  # markdown for the web: the answer first, then a compact card of what the question needs
    guide: str = ""  # markdown: every field of the guide, shown behind "查看完整指南"
    speech: str  # plain and short, for the kiosk's digital human
    decision: Decision
    cards: list[Card] = []
    citations: list[Citation] = []
    suggestions: list[str] = []
    handoff_reason: str | None = None
    confidence: float = 0.0
    rephrased: bool = False  # an LLM rewrote the text and it passed the grounding check
    # The question is about a place outside the knowledge's area: the guide is shown as a labelled reference
    # ("以下为广东省的办事指南，仅供参考"), not as the citizen's answer.
    reference_only: bool = False
