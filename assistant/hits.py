"""What a search returns and what tunes it: hits, the retrieval with its confidence, filters, the ranking's
settings (with the rule families an ablation switches off) and the confidence calibration of each embedder."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from assistant.query import NormalisedQuery
from knowledge.records import Chunk

# A guide about another thing than the one the question names gets at most this share of the refusal threshold.
UNMATCHED_CAP = 0.75
DEFAULT_SECTION_WEIGHTS = {
    "name": 1.0, "aliases": 0.9, "overview": 0.45, "eligibility": 0.5, "materials": 0.45, "steps": 0.4,
    "locations": 0.3, "time_fee": 0.2, "contact": 0.1, "basis": 0.3, "faq": 0.6, "items": 0.6, "outcomes": 0.3,
}


# Hand-written rule families that can be switched off one by one for an ablation:
# named: what a question names against what a guide is about (assistant.named);
# acts: redo/renew/end/change acts (补领, 换领, 注销, 变更) asked for or not, among candidates and in follow-ups;
# singles-out: a candidate named by a pair of characters of its name that the others lack;
# within: "医保呢" after a guide, searched in that guide's situation;
# mentions: a follow-up naming only one of the current guide's materials or things it speaks of ("要带身份证吗");
# stories: a long message is not answered with a guide named for an act it never asks for (data/acts.json);
# alike: no question back among options whose answers to the question are the same but for the name;
# context: no question back when the guide under discussion names one of the options (新生儿… → 新生儿参加医保).
RULE_FAMILIES = frozenset(("named", "acts", "singles-out", "within", "mentions", "lookups", "places", "regions",
                           "stories", "alike", "context"))


@dataclass(frozen=True)
class RetrievalConfig:
    """Everything that shapes the ranking; written into eval reports."""

    mode: str = "hybrid"  # hybrid | bm25 | dense
    # weighted (BM25 / its best, raw cosine) | minmax (BM25 / its best, cosine spread over 0..1 per query)
    # | zscore (both sides as standard scores per query) | rrf
    fusion: str = "weighted"
    lexical_weight: float = 0.6
    dense_weight: float = 0.4
    rrf_k: int = 60
    candidates: int = 100  # per side, before fusion
    bigram_weight: float = 0.5
    unigram_weight: float = 0.7
    expansion_weight: float = 0.5  # terms added by synonym rules count less than the citizen's own words
    cue_weight: float = 0.5  # so do the words that ask for a facet (要带什么, 在哪办): they name no service
    section_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SECTION_WEIGHTS))
    dense_section_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SECTION_WEIGHTS))
    # Rule families switched off, to measure what each earns (``banshi eval --without``); see RULE_FAMILIES.
    without: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.mode not in ("hybrid", "bm25", "dense"):
            raise ValueError(f"mode must be hybrid, bm25 or dense. Currently, mode is {self.mode!r}")
        if self.fusion not in ("weighted", "minmax", "zscore", "rrf"):
            raise ValueError(f"fusion must be weighted, minmax, zscore or rrf. Currently, fusion is {self.fusion!r}")
        if not self.without <= RULE_FAMILIES:
            raise ValueError(f"without must name rule families of {sorted(RULE_FAMILIES)}. "
                             f"Currently, without is {sorted(self.without)}")
        if self.candidates < 1:
            raise ValueError(f"candidates must be greater than 0. Currently, candidates is {self.candidates}")

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "without": sorted(self.without)}


@dataclass(frozen=True)
class Calibration:
    """Confidence = logistic(bias + dense·cosine + coverage·share + lexical·BM25 per word + length·log2 chars).

    The defaults were fitted by ``python -m evals.calibrate`` on the bundled pack's development
    cases; ``evals.calibrate --write`` stores a fit for another knowledge base in its index.
    """

    bias: float = -7.748
    dense: float = 4.031
    coverage: float = 2.908
    lexical: float = 0.491
    length: float = 0.720  # per log2 of the question's length: long stories cover fewer of their words
    refuse_below: float = 0.4  # below this the first guide is not trusted: out of scope

    @staticmethod
    def features(dense: float, coverage: float, lexical_per_word: float, length: int = 1) -> tuple[float, ...]:
        """The model's inputs, in the order of its weights (``evals.calibrate`` fits on these)."""
        return dense, coverage, min(lexical_per_word, 10.0), math.log2(max(length, 1))

    def confidence(self, dense: float, coverage: float, lexical_per_word: float, length: int = 1) -> float:
        d, c, lex, n = self.features(dense, coverage, lexical_per_word, length)
        z = self.bias + self.dense * d + self.coverage * c + self.lexical * lex + self.length * n
        return 1.0 / (1.0 + math.exp(-z))


EMBEDDER_DEFAULTS = files("assistant").joinpath("data/embedders.json")


def embedder_defaults(embedder_identity: str) -> tuple[dict[str, Any], Calibration]:
    """The fusion settings and the confidence model fitted for this embedder's scores
    (assistant/data/embedders.json, keyed by the model's name: the part of its identity before the first
    ":"); for a model not listed there, the class defaults."""
    fits = json.loads(EMBEDDER_DEFAULTS.read_text(encoding="utf-8"))
    fit = fits.get(embedder_identity.split(":", 1)[0], {})
    return dict(fit.get("retrieval", {})), Calibration(**fit.get("calibration", {}))


@dataclass(frozen=True)
class Hit:
    """One guide (or theme) and why it matched."""

    chunk: Chunk  # its best-matching chunk
    score: float  # fused score, comparable within one query
    lexical: float  # best weighted BM25 of its chunks, every word of the question counted fully (what confidence reads)
    dense: float  # best cosine of its chunks
    confidence: float = 0.0  # 0..1, see Retrieval

    @property
    def record_id(self) -> str:
        return self.chunk.record_id

    @property
    def name(self) -> str:
        return self.chunk.name


@dataclass(frozen=True)
class Retrieval:
    query: NormalisedQuery
    hits: list[Hit]
    coverage: float  # share of the question's terms found in the first guide
    confidence: float  # of the first guide being right, 0..1
    margin: float  # confidence gap between the first two guides
    seconds: float
    words: int = 1  # the question's words (not bigrams or characters), for BM25 per word
    unmatched: tuple[str, ...] = ()  # what the question names that no guide found speaks of ("药品经营许可证")


@dataclass(frozen=True)
class Filters:
    region: str | None = None  # keeps guides of this region, its parents and its children
    audience: tuple[str, ...] = ()
    kind: str | None = None

    def allows(self, chunk: Chunk) -> bool:
        if self.region and chunk.region and not (
            chunk.region.startswith(self.region) or self.region.startswith(chunk.region)
        ):
            return False
        if self.audience and chunk.audience and not set(self.audience) & set(chunk.audience):
            return False
        return not (self.kind and chunk.kind != self.kind)
