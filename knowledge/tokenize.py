"""Lexical tokens for BM25: jieba search-mode words, Chinese character bigrams and unigrams.

Bigrams keep recall when jieba splits a citizen's wording differently from the guide's
(“娃上户口” vs “户口登记”); unigrams catch abbreviations, which Chinese forms by picking
characters (律所 ← 律师事务所, 自考 ← 自学考试); words keep precision. The user dictionary holds government terms
taken from the knowledge itself (guide names, aliases, material names).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_WORD = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+(?:\.[0-9]+)?")
# Particles and question words that every question has and no guide needs (stopwords.txt).
STOPWORDS = frozenset(line.strip() for line in (Path(__file__).parent / "stopwords.txt").read_text(encoding="utf-8")
                      .splitlines() if line.strip() and not line.startswith("#"))


_STOP_CHARS = frozenset("的了吗呢吧啊呀么嘛是在和与及或我你您他她它们要想请怎样如何什哪里儿个些这那还就都也有没能可")


def dictionary_hash(words: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(set(words))).encode()).hexdigest()[:16]


class Tokenizer:
    """jieba with a user dictionary; ``initialize()`` happens on first use (≈1.5 s)."""

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        self.user_words = sorted({w for w in user_words if 2 <= len(w) <= 20 and " " not in w})
        self._jieba: Any = None
        self._kinds: tuple[frozenset[str], frozenset[str], frozenset[str]] | None = None

    @property
    def version(self) -> str:
        return f"jieba-search+bigram+unigram:{dictionary_hash(self.user_words)}"

    def _loaded(self) -> Any:
        if self._jieba is None:
            import jieba  # deferred: building the prefix dictionary costs time

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            for word in self.user_words:
                tokenizer.add_word(word, freq=2000)
            self._jieba = tokenizer
        return self._jieba

    def words(self, text: str) -> list[str]:
        """jieba search-mode words, lower-cased, without stopwords and punctuation."""
        found = []
        for token in self._loaded().cut_for_search(text.lower()):
            token = token.strip()
            if token and token not in STOPWORDS and _WORD.fullmatch(token):
                found.append(token)
        return found

    def tokens(self, text: str) -> list[str]:
        """Words, then ``#``-prefixed character bigrams and ``@``-prefixed characters of each Chinese run."""
        tokens = self.words(text)
        for run in _CJK_RUN.findall(text):
            tokens.extend("#" + run[i : i + 2] for i in range(len(run) - 1))
            tokens.extend("@" + char for char in run if char not in _STOP_CHARS)
        return tokens

    def tagged(self, text: str) -> list[tuple[str, str]]:
        """jieba's precise-mode words, without new-word guessing, each with its kind: "verb", "other" (a
        pronoun, adverb, number, time word, idiom …), "place" (a place name: 香港, 广东, 江西) or "noun" (nouns,
        verbal nouns, abbreviations, fixed phrases, and the knowledge's own terms). Kinds come from the tags of
        jieba's dictionary; only the three small sets are kept (≈12 MB), not jieba's whole tagger (≈96 MB)."""
        if self._kinds is None:
            self._kinds = _word_kinds(self._loaded().get_dict_file())
        verbs, others, places = self._kinds
        words = (w for w in self._loaded().cut(text.lower(), HMM=False) if w.strip())
        return [(w, "verb" if w in verbs else "other" if w in others else "place" if w in places else "noun")
                for w in words]


_NOUN_TAGS = ("n", "vn", "j", "l", "an", "b", "x")  # b: attributive words (临时, 大型)


def _word_kinds(dictionary: Any) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(verbs, words that are neither verbs nor noun-like, place names) of a jieba dictionary file
    (``word freq tag``)."""
    verbs: set[str] = set()
    others: set[str] = set()
    places: set[str] = set()
    with dictionary as lines:
        for raw in lines:
            parts = raw.decode("utf-8").split()
            if len(parts) != 3:
                continue
            word, _, tag = parts
            if tag == "v":
                verbs.add(word)
            elif tag == "ns":
                places.add(word)
            elif not tag.startswith(_NOUN_TAGS):
                others.add(word)
    return frozenset(verbs), frozenset(others), frozenset(places)
