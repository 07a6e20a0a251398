"""One turn of the dialogue as the stages see it (TurnState), and what the stages share: how many options a
question back offers, when a match is sure, and the words that tell a follow-up."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.answer import Answer
from assistant.hits import Retrieval
from assistant.intent import Facet, SmallTalk
from assistant.lexicon import LEXICON
from assistant.places import Place
from assistant.session import Session
from knowledge.schema import Hall, ServiceGuide, Theme

# Below this a searched guide is answered with a line on how to correct a wrong match; and a long message that
# tells a situation (acts.is_story) gets it only as the nearest guide, for reference (docs/trust.md)
SURE = 0.7
A_NUMBER = re.compile(r"\s*第?\s*[0-9０-９一二三四五六七八九十]+\s*[个项条]?\s*[。.!！]?\s*")
MAX_OPTIONS = 4
# "那…呢", "如果…呢", "要是…": a follow-up that varies a detail of what was just asked.
ELLIPTICAL = re.compile(f"^(?:{LEXICON.pattern('follow-up-openings').pattern})|呢[?？!！。.]*$")
WHAT = LEXICON.pattern("what")
# Words of a question that name no service, although aliases use them ("公积金能贷多少", "结婚登记预约",
# "给孩子办护照"): what is asked (every cue word of every facet) and who for. A follow-up using only
# these ("电话多少", "怎么预约", "那小孩的呢") is about the guide under discussion.
NOT_SERVICE_WORDS = LEXICON.words("not-a-service")
NOT_SERVICE = re.compile("|".join(NOT_SERVICE_WORDS))


@dataclass
class TurnState:
    question: str
    session: Session
    hall: Hall | None = None
    text: str = ""  # normalised question
    facets: list[Facet] = field(default_factory=list)
    handoff_reason: str | None = None
    retrieval: Retrieval | None = None
    record: ServiceGuide | Theme | None = None
    options: list[ServiceGuide | Theme] = field(default_factory=list)
    districts: list[str] = field(default_factory=list)
    confidence: float = 0.0
    unsure: bool = False  # a fresh search found the guide with modest confidence: say how to correct it
    story_unsure: bool = False  # a long story, and the guide found with too little confidence to be its answer
    ask_topic: bool = False  # the question names no service and none is under discussion
    ask_region: bool = False  # the options are one item as each region issues it: ask where, not which
    alike: list[ServiceGuide | Theme] = field(default_factory=list)  # options the answer holds for as well
    small_talk: SmallTalk | None = None  # "你好", "谢谢", "你是谁": no question about a service
    residue: str = ""  # the text without cue, district, question and filler words (see Assistant._residue)
    noise: bool = False  # "123", "？？？": no words, so no question (refused, but no failed turn either)
    to_the_point: bool = False  # a follow-up about one thing the guide speaks of: only the passages on it
    progress: bool = False  # "办到哪一步了": one's own application, which no guide can tell
    beside: Retrieval | None = None  # the question searched with the current guide's name (Assistant._beside)
    elsewhere: Place | None = None  # a province or city the question names outside the knowledge's area
    hall_asked: Hall | None = None  # a question about a hall itself ("政务中心几点下班"), answered from pack.yaml
    asked_again: bool = False  # a number that picks none of the options just offered ("5" of four): asked again
    reasked: bool = False  # the options just offered asked about again, none picked ("在哪办" after which one?)
    personal: bool = False  # the message gave a personal number (redacted), with a question: a word on privacy
    answer: Answer | None = None
