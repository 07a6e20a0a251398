"""What a guide does (补领, 注销, 查询, 迁出 …) against what a message asks to do, from ``data/acts.json``.

A guide is named for an act when its name holds one of the act's guide words ("补领结婚证", "出生医学证明信息查询");
a message asks for the act when it holds one of the act's asked words, once the words that only look like
them are taken out (补贴 and 补助 ask for no 补办). Acts marked ``stories`` are judged only for long
messages that tell a situation: a short question or a follow-up leaves the act unsaid too often.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from assistant.lexicon import alternation
from knowledge.errors import ConfigError
from knowledge.text import chinese_chars

# A message of at least this many Chinese characters tells a situation ("我丈夫去年在广州…请问工亡待遇要怎么领"):
# what it asks is said in full, so a guide for an act it never names is not its answer. Measured on the
# development sets (docs/trust.md): the short questions answered right with such a guide have at most 29.
STORY_CHARS = 40

@dataclass(frozen=True)
class Act:
    name: str
    guide: re.Pattern[str]
    asked: re.Pattern[str]
    unasking: re.Pattern[str] | None
    stories: bool
    picks: bool = False  # a story act that, asked for in any question, picks its guide among the candidates

    def names(self, guide_name: str) -> bool:
        """Is a guide of this name for this act?"""
        return self.guide.search(guide_name) is not None

    def asked_in(self, text: str) -> bool:
        """Does the message ask for this act?"""
        if self.unasking is not None:
            text = self.unasking.sub("", text)
        return self.asked.search(text) is not None


def _words(raw: dict[str, Any], key: str, act: str) -> re.Pattern[str] | None:
    words = raw.get(key, [])
    if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
        raise ConfigError(f"acts.json: {act}.{key} must be a list of words")
    # longest first, so that an alternation takes the whole word
    return re.compile(alternation(sorted(words, key=len, reverse=True))) if words else None


def load_acts(text: str) -> tuple[Act, ...]:
    """The acts of an acts.json text. Raises ConfigError naming what is wrong."""
    try:
        entries = json.loads(text)["acts"]
    except (ValueError, KeyError, TypeError) as err:
        raise ConfigError(f"acts.json: expected an object with a list 'acts': {err}") from err
    acts = []
    for raw in entries:
        name = raw.get("act") if isinstance(raw, dict) else None
        if not isinstance(name, str) or not name:
            raise ConfigError(f"acts.json: every act needs a name ('act'): {raw!r}")
        guide, asked = _words(raw, "guide", name), _words(raw, "asked", name)
        if guide is None or asked is None:
            raise ConfigError(f"acts.json: {name} needs guide words and asked words")
        acts.append(Act(name, guide, asked, _words(raw, "unasking", name), bool(raw.get("stories", False)),
                        bool(raw.get("picks", False))))
    return tuple(acts)


ACTS = load_acts(files("assistant").joinpath("data/acts.json").read_text(encoding="utf-8"))
_ALWAYS = tuple(a for a in ACTS if not a.stories)
_PICKING = tuple(a for a in ACTS if not a.stories or a.picks)


def is_story(text: str) -> bool:
    """A long message that tells a situation (see STORY_CHARS)."""
    return chinese_chars(text) >= STORY_CHARS


def unasked_act(text: str, guide_name: str) -> bool:
    """Is the guide a redo or an end of something (补领结婚证, 驾驶证期满换证) the question does not ask to
    redo or end ("结婚证怎么领", "驾驶证怎么考")?"""
    return any(a.names(guide_name) and not a.asked_in(text) for a in _ALWAYS)


def names_an_act(guide_name: str) -> bool:
    """Is the guide named for any act at all, long-story ones included (…查询, 资格认证)?"""
    return any(a.names(guide_name) for a in ACTS)


def asked_act(text: str, guide_name: str) -> bool:
    """Is the guide named for the act the question asks for ("社保卡芯片坏了" → 社会保障卡挂失与补换,
    "怎么查残疾证是不是真的" → 《中华人民共和国残疾人证》查询)?"""
    return any(a.names(guide_name) and a.asked_in(text) for a in _PICKING)


def asks_an_act(text: str) -> bool:
    """Does the question ask to redo, renew, change or end something at all ("丢了咋办", "到期了怎么续")?"""
    return any(a.asked_in(text) for a in _ALWAYS)


def story_unasked(text: str, guide_name: str) -> str | None:
    """For a long message: the act the guide is named for and the message never asks for, if any
    ("…职称证丢了要怎么补办" and 职业资格证书查询、核验: 查询). None for a short message."""
    if not is_story(text):
        return None
    return next((a.name for a in ACTS if a.names(guide_name) and not a.asked_in(text)), None)
