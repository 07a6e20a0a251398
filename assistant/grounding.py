"""Is every fact in an answer found in its sources? Used on every LLM rewrite and in evaluation.

A fact is a number (phones, fees, days, article numbers), a URL, or a kind of document
(证明, 执照, 合同, 户口簿, 结婚证 …). A sentence with a fact that no cited source contains is
unsupported. Template wording carries no facts of its own, except the national hotline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.intent import HOTLINE
from assistant.lexicon import LEXICON
from knowledge.schema import Hall, ServiceGuide, Theme
from knowledge.text import normalise_text

ALWAYS_KNOWN = (HOTLINE,)  # the national government-service hotline the templates name
_ENUMERATOR = re.compile(r"^\s*(?:[-*]\s*)?\d+[.、)）]\s*", re.M)
_URL = re.compile(r"https?://[^\s)）\]。，；、]+")
_NUMBER = re.compile(r"\d+(?:[-.:]\d+)*")
# Kinds of documents; an answer naming a kind that no source names has made it up.
_DOCUMENT = LEXICON.pattern("document-kinds")
_SENTENCE = re.compile(r"(?<=[。；！？\n])")
# "等6项，详见完整指南": the count of a list the answer shortens, counted from the source's own list.
_LIST_COUNT = re.compile(r"等\d+[项处步]")


def source_text(records: Iterable[ServiceGuide | Theme], halls: Iterable[Hall] = ()) -> str:
    """Everything the sources say, as one normalised text."""
    parts = [r.model_dump_json() for r in records] + [h.model_dump_json() for h in halls]
    return normalise_text("\n".join(parts))


def facts(sentence: str) -> list[str]:
    body = _LIST_COUNT.sub("", _ENUMERATOR.sub("", sentence))
    urls = _URL.findall(body)
    body = _URL.sub(" ", body)
    return [*urls, *_NUMBER.findall(body), *_DOCUMENT.findall(body)]


def unsupported_statements(text: str, sources: str) -> list[str]:
    """Sentences of ``text`` with at least one fact that ``sources`` does not contain."""
    known = sources + "\n" + "\n".join(ALWAYS_KNOWN)
    bad = []
    for sentence in _SENTENCE.split(normalise_text(text)):
        missing = [f for f in facts(sentence) if f not in known]
        if missing:
            bad.append(sentence.strip())
    return bad
