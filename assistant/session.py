"""Dialogue state: which guide "it" is, the options just offered, the district, failed turns.

A plain pydantic record, so a channel can keep it in memory or store it as JSON in a database.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from assistant.intent import Facet
from assistant.lexicon import LEXICON

MAX_TURNS = 20


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class Session(BaseModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    channel: str = "web"
    record_id: str | None = None  # the guide or theme the conversation is about
    options: list[str] = []  # record ids offered in the last clarifying question
    region_options: list[str] = []  # districts offered in the last clarifying question
    region: str | None = None
    facets: list[Facet] = []  # what the last question asked for
    failures: int = 0  # consecutive turns the assistant could not help with
    awaiting_topic: bool = False  # we asked which service a bare "多少钱" / "在哪办" was about
    theme_id: str | None = None  # the 一件事 whose numbered items are being looked at ("第二个" picks from it)
    turns: list[Turn] = []

    def remember(self, role: Literal["user", "assistant"], content: str) -> None:
        self.turns = [*self.turns, Turn(role=role, content=content)][-MAX_TURNS:]

    def last_user_question(self) -> str | None:
        earlier = [t.content for t in self.turns if t.role == "user"]
        return earlier[-1] if earlier else None


_ORDINALS = {numeral: int(number) - 1 for number, numerals in LEXICON.groups("ordinals").items()
             for numeral in numerals}  # options, and a theme's items (0 is the first)
# "第一次办" is a first application and "第二胎" a second child, not a pick.
PICKS_BY_NUMBER = LEXICON.regex("option-pick")  # "第二个", "2": an option picked by its number
_LAST = LEXICON.words("last-option")


def narrow_options(text: str, names: list[str]) -> list[int]:
    """The options whose names hold the most of the reply's character pairs, when that is some of them and not all
    ("大陆居民 小车" of 外国人/大陆居民 × 摩托车/小型汽车: the two of 大陆居民, or with 小车 read as 小型汽车 the one);
    empty when the reply's pairs are in none of the names or equally in all."""
    pairs = {text[i : i + 2] for i in range(len(text) - 1)}
    held = [len({p for p in pairs if p in name}) for name in names]
    best = max(held, default=0)
    kept = [i for i, n in enumerate(held) if n == best]
    return kept if best > 0 and len(kept) < len(names) else []


def pick_option(text: str, names: list[str]) -> int | None:
    """Which offered option the citizen picked: "第二个", "2", "补领的那个", "换证"; None if unclear."""
    match = PICKS_BY_NUMBER.search(text)
    if match:
        # a numeral that a city's option-pick.re matches but ordinals.tsv lacks picks nothing
        numeral = next((g for g in match.groups() if g in _ORDINALS), None)
        return _ORDINALS[numeral] if numeral is not None and _ORDINALS[numeral] < len(names) else None
    if any(cue in text for cue in _LAST) and names:
        return len(names) - 1
    # A distinctive part of one option's name that the others lack ("补领", "个体户", "异地").
    scored = []
    for index, name in enumerate(names):
        others = "".join(n for i, n in enumerate(names) if i != index)
        parts = {name[i : i + 2] for i in range(len(name) - 1)}
        distinctive = [p for p in parts if p in text and p not in others]
        scored.append((len(distinctive), index))
    scored.sort(reverse=True)
    if scored and scored[0][0] > 0 and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return scored[0][1]
    return None
