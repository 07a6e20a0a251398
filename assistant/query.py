"""Question normalisation: the same text rules as ingest, plus staff-editable synonyms.

Synonyms only add standard terms (社保 → 社会保险); the citizen's words stay in the query, so a
rule can widen the search but never lose what was said.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from assistant.intent import for_cues
from knowledge.errors import ConfigError
from knowledge.text import normalise_text

DEFAULT_SYNONYMS = files("assistant").joinpath("data/synonyms.tsv")


@dataclass(frozen=True)
class NormalisedQuery:
    original: str
    text: str  # normalised citizen's words
    expansions: tuple[str, ...]  # standard terms added by synonym rules

    @property
    def search_text(self) -> str:
        return " ".join((self.text, *self.expansions))


def parse_synonyms(text: str, source: str = "synonyms") -> dict[str, tuple[str, ...]]:
    """``colloquial<TAB>standard terms`` lines; ``#`` comments. Raises ConfigError on a bad line."""
    rules: dict[str, tuple[str, ...]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].split():
            raise ConfigError(f"{source} line {number}: expected 'colloquial<TAB>standard terms', got {line!r}")
        rules[normalise_text(parts[0])] = tuple(normalise_text(t) for t in parts[1].split())
    return rules


def load_synonyms(extra: Path | None = None) -> dict[str, tuple[str, ...]]:
    rules = parse_synonyms(DEFAULT_SYNONYMS.read_text(encoding="utf-8"), "assistant/data/synonyms.tsv")
    if extra is not None:
        try:
            rules.update(parse_synonyms(extra.read_text(encoding="utf-8"), str(extra)))
        except OSError as err:
            raise ConfigError(f"cannot read synonyms file {extra}: {err}") from err
    return rules


def normalise_query(question: str, synonyms: dict[str, tuple[str, ...]]) -> NormalisedQuery:
    """NFKC (full-width punctuation too, unlike guide text), 繁→简, trimmed, synonyms added."""
    text = normalise_text(unicodedata.normalize("NFKC", question)).lower()
    matched = for_cues(text)
    added: list[str] = []
    for colloquial, standard in synonyms.items():
        if colloquial in matched:
            added.extend(t for t in standard if t not in text and t not in added)
    return NormalisedQuery(original=question, text=text, expansions=tuple(added))
