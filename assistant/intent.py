"""Which facets a question asks for: 谁能办, 在哪办, 如何办, 材料, 时限, 收费, 电话, 结果 — or an overview.

Keyword cues, checked on the normalised question (简体, lower case). Several facets at once are
normal ("在哪办要带什么"). No cue means an overview.
"""

from __future__ import annotations

import re
from typing import Literal

from assistant.lexicon import LEXICON

Facet = Literal["who", "where", "how", "materials", "time", "fee", "phone", "result"]
FACET_ORDER: tuple[Facet, ...] = ("who", "materials", "how", "where", "time", "fee", "result", "phone")
FACET_LABELS: dict[Facet, str] = {
    "who": "谁能办", "where": "在哪办", "how": "如何办", "materials": "申请材料",
    "time": "办理时限", "fee": "收费标准", "phone": "咨询电话", "result": "办理结果",
}

# The cue words are data (assistant/data/lexicon/): what each table is for is in its header.
# "能加急吗": how long it takes, and whether the guide says anything about hurrying it.
URGENT_CUES = LEXICON.words("urgent")
_FACET_CUES = LEXICON.groups("facets")
CUES: dict[Facet, tuple[str, ...]] = {f: (*_FACET_CUES.get(f, ()), *(URGENT_CUES if f == "time" else ()))
                                      for f in FACET_ORDER if f in _FACET_CUES}


# "我的件办到哪一步了": the progress of one's own application, which no guide can tell.
PROGRESS_CUES = LEXICON.words("progress")


def asks_urgent(text: str) -> bool:
    return any(cue in text for cue in URGENT_CUES)


def asks_progress(text: str) -> bool:
    return any(cue in text for cue in PROGRESS_CUES)


# Every facet's cues, longest first: a cue inside a longer one of another facet asks nothing.
_LONGEST_FIRST: list[tuple[str, Facet]] = sorted(((cue, facet) for facet, cues in CUES.items() for cue in cues),
                                               key=lambda pair: -len(pair[0]))


def detect_facets(text: str) -> list[Facet]:
    """Facets asked for, in the order an answer presents them; empty means an overview."""
    for cue in PROGRESS_CUES:  # "办到哪一步" asks about progress, not where (到哪)
        text = text.replace(cue, "")
    text = text.replace("手续费", "费用")  # a fee, not the procedure (手续)
    found: set[Facet] = set()
    for cue, facet in _LONGEST_FIRST:  # a cue inside a longer one of another facet asks nothing ("住满多久")
        if cue in text:
            found.add(facet)
            text = text.replace(cue, "，")
    return [facet for facet in FACET_ORDER if facet in found]


HANDOFF_CUES = LEXICON.words("handoff")


# "叫个真人同我倾", "跟真人说", "找你们领导": a verb of asking with a person. 领导/负责人 only with 找/叫/跟,
# since "申请表要领导签字吗" and "负责人身份证" are about materials.
_ASKS_FOR_PERSON = LEXICON.regex("asks-for-person")


# "投诉电话多少", "投诉打哪个电话", "投诉渠道": a question about where to complain, answered from the guide.
_ASKS_WHERE_TO_COMPLAIN = LEXICON.regex("asks-where-to-complain")


def wants_human(text: str) -> bool:
    """The citizen asks for a person or complains about the service."""
    text = _ASKS_WHERE_TO_COMPLAIN.sub("", text)
    return any(cue in text for cue in HANDOFF_CUES) or _ASKS_FOR_PERSON.search(text) is not None


HOTLINE = "12345"  # the national government-service hotline that replies name
_HOTLINE_SAID = re.compile(rf"(?<![0-9０-９]){HOTLINE}(?![0-9０-９])")  # not the digits of a phone number: 13812345678


def called_hotline(said: list[str]) -> bool:
    """Has the citizen spoken of the 12345 hotline ("打了三次12345都说转给街道了")? Then no reply sends them back."""
    return any(_HOTLINE_SAID.search(text) for text in said)


BUNDLE_CUES = LEXICON.words("bundle")


def for_cues(text: str) -> str:
    """The question as cue lists and synonym rules read it: "第一次办社保卡" is a first application (首次),
    not a request to do things at once ("一次办")."""
    return text.replace("第一次", "首次")


def asks_for_bundle(text: str) -> bool:
    """The citizen wants several items done together: a one-thing theme answers, not one guide."""
    text = for_cues(text)
    return any(cue in text for cue in BUNDLE_CUES)


# "personal": the message only gives personal numbers (身份证号, 手机号), no question (see Assistant.understand).
# "hotline": the 12345 chip of a refusal, clicked (or "12345" typed alone).
SmallTalk = Literal["identity", "thanks", "bye", "greeting", "ack", "personal", "hotline"]
# Whole messages made only of these words are small talk, not questions about a service. The kind
# answered is the first of SmallTalk present: "你好，你是谁" is about the assistant, "好的谢谢" thanks.
_SMALL_TALK: dict[SmallTalk, tuple[str, ...]] = LEXICON.groups("small-talk")  # type: ignore[assignment]
# Words that only soften or join small talk: "非常感谢你的帮助啊", "请问你是谁".
_SMALL_TALK_FILLER = LEXICON.words("small-talk-filler")
_SMALL_TALK_WORDS = sorted({w for words in _SMALL_TALK.values() for w in words} | set(_SMALL_TALK_FILLER),
                           key=lambda w: (-len(w), w))
_NOT_WORDS = re.compile(r"[\s\W_]+")
_EMOJI = {emoji: word for word, emojis in LEXICON.groups("emoji").items() for emoji in emojis}
_EMOJI_WORDS = re.compile("|".join(_EMOJI))


def small_talk(text: str) -> SmallTalk | None:
    """The kind of small talk when the whole message is a greeting, thanks, goodbye, an acknowledgement or a
    question about the assistant itself; None when anything in it could be a question about a service."""
    rest = _NOT_WORDS.sub("", _EMOJI_WORDS.sub(lambda m: _EMOJI[m.group()], text.lower()))
    found: set[str] = set()
    while rest:
        word = next((w for w in _SMALL_TALK_WORDS if rest.startswith(w)), None)
        if word is None:
            return None
        found.add(word)
        rest = rest[len(word):]
    kinds = [kind for kind, words in _SMALL_TALK.items() if found & set(words)]
    return kinds[0] if kinds else None


def has_words(text: str) -> bool:
    """Does the message hold any Chinese character or Latin letter? "123", "？？？" and "😂" do not."""
    return re.search(r"[\u3400-\u9fffA-Za-z]", text) is not None
