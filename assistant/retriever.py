"""Hybrid retrieval: jieba BM25 and dense vectors from Chroma, fused per guide, with confidence.

Every chunk is scored, chunks are grouped by guide (several chunks of one guide are one
candidate), sections weigh differently (name and aliases count more than boilerplate), and
the two rankings are fused. The result carries a confidence and the margin between the first
two guides, so the next stage can decide to answer, clarify or refuse.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import replace

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.bm25 import BM25
from assistant.hits import (
    UNMATCHED_CAP,
    Calibration,
    Filters,
    Hit,
    Retrieval,
    RetrievalConfig,
    embedder_defaults,
)
from assistant.intent import CUES
from assistant.named import HEADS, NamedTerm, has_head, has_thing, named_terms, names_of, speaks_of
from assistant.query import normalise_query
from knowledge.index import KnowledgeIndex
from knowledge.records import Chunk
from knowledge.tokenize import Tokenizer

logger = logging.getLogger(__name__)

# The words that ask for a facet, longest first (then by text: one order in every process): "要带什么" goes before
# "带什么".
_ASKING = sorted({cue for cues in CUES.values() for cue in cues}, key=lambda c: (-len(c), c))


class HybridSearch:
    """Holds the BM25 index in memory and queries Chroma; build once per process."""

    def __init__(self, index: KnowledgeIndex, synonyms: dict[str, tuple[str, ...]],
                 config: RetrievalConfig | None = None, *, tokenizer: Tokenizer | None = None) -> None:
        self.index = index
        self.synonyms = synonyms
        fusion, calibration = embedder_defaults(index.embedder.identity)
        self.config = config or RetrievalConfig(**fusion)
        stored = index.meta("calibration")
        self.calibration = Calibration(**json.loads(stored)) if stored else calibration
        self.tokenizer = Tokenizer(json.loads(index.meta("user_words") or "[]"))
        if tokenizer is not None and tokenizer.version == self.tokenizer.version:
            self.tokenizer = tokenizer  # a reload with the same dictionary keeps the jieba already loaded
        rows = index.all_chunks()
        self.chunks = [c for c, _ in rows]
        if index.meta("tokenizer") != self.tokenizer.version:
            logger.warning("index tokens are from %s, not %s: re-tokenising in memory (re-run ingest to store them)",
                           index.meta("tokenizer"), self.tokenizer.version)
        # The token lists are not kept once BM25 has its postings (~100 MB at 20,000 guides); with_config reads them
        # again when it needs another BM25.
        self.bm25 = self._bm25(self.config, self._tokens([t for _, t in rows]))
        del rows
        self._position = {c.id: i for i, c in enumerate(self.chunks)}
        self._records = sorted({c.record_id for c in self.chunks})
        record_index = {r: i for i, r in enumerate(self._records)}
        self._chunk_record = np.array([record_index[c.record_id] for c in self.chunks], dtype=np.int32)
        # Ties (the same item published at two levels, word for word) go to the more local guide, then
        # by id: the same question gets the same order in every process, and the city's own copy
        # names the city's hall. 广东省广州市 is deeper than 广东省.
        regions: dict[str, str] = {}
        for chunk in self.chunks:
            regions.setdefault(chunk.record_id, chunk.region or "")
        self._record_depth = [len(regions[r]) for r in self._records]
        self._record_chunks: dict[str, list[int]] = {}
        for position, chunk in enumerate(self.chunks):
            self._record_chunks.setdefault(chunk.record_id, []).append(position)
        self._record_text = {r: "".join(self.chunks[p].text for p in ps) for r, ps in self._record_chunks.items()}
        self._record_names = {r: "|".join([self.chunks[ps[0]].name] + [self.chunks[p].text for p in ps
                                                                       if self.chunks[p].section == "aliases"])
                              for r, ps in self._record_chunks.items()}
        self._section_weight = self._weights(self.config)
        logger.info("hybrid search ready: %s chunks of %s records", len(self.chunks), len(self._records))

    def _weights(self, config: RetrievalConfig) -> np.ndarray:
        return np.array([config.section_weights.get(c.section, 0.3) for c in self.chunks], dtype=np.float32)

    def _tokens(self, stored: list[list[str]] | None = None) -> list[list[str]]:
        """Each chunk's BM25 tokens, in the order of ``self.chunks``: as stored (read again without ``stored``),
        or worked out now when the index's were made by another tokenizer."""
        if self.index.meta("tokenizer") != self.tokenizer.version:
            return [self.tokenizer.tokens(c.text) for c in self.chunks]
        if stored is None:
            rows = self.index.chunk_tokens()
            if [chunk_id for chunk_id, _ in rows] != [c.id for c in self.chunks]:
                raise RuntimeError("the index changed since this search was loaded: load it again")
            stored = [tokens for _, tokens in rows]
        return stored

    def _bm25(self, config: RetrievalConfig, tokens: list[list[str]]) -> BM25:
        return BM25(tokens, bigram_weight=config.bigram_weight, unigram_weight=config.unigram_weight)

    def warm_up(self) -> None:
        """Load jieba, the embedder and Chroma's vector index now, not on the first citizen's question."""
        self.search("预热")

    def with_config(self, config: RetrievalConfig) -> HybridSearch:
        """The same index with another config (for ablations); rebuilds BM25 only if needed."""
        clone = object.__new__(HybridSearch)
        clone.__dict__.update(self.__dict__)
        clone.config = config
        if (config.bigram_weight, config.unigram_weight) != (self.config.bigram_weight, self.config.unigram_weight):
            clone.bm25 = clone._bm25(config, clone._tokens())
        clone._section_weight = clone._weights(config)
        return clone

    # -- the two sides ------------------------------------------------------------------------
    def _asking_apart(self, text: str, own: list[str]) -> tuple[list[str], list[str]]:
        """The question's tokens without the words that ask for a facet ("要带什么", "在哪办"), and those words'
        tokens: they say what is asked of a service, not which one ("办户口要带什么" is not 结婚登记 for its alias
        "登记结婚要带什么"). A question of nothing but such words keeps them all as its own."""
        if self.config.cue_weight == 1.0:
            return own, []
        said = [cue for cue in _ASKING if cue in text]
        for cue in said:
            text = text.replace(cue, "，")
        rest = self.tokenizer.tokens(text) if said else own
        return (rest, self.tokenizer.tokens(" ".join(said))) if rest else (own, [])

    def _lexical(self, own: list[str], asking: list[str], added: list[str],
                 mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Per-record best weighted BM25, and the index of that best chunk.

        The citizen's own words count fully; the words that ask for a facet count ``cue_weight``, and terms that
        synonym rules added ("丢了" → 遗失 补领) count ``expansion_weight``, so neither outweighs the thing named
        ("居住证").
        """
        chunk_scores = self.bm25.scores(own)
        if asking:
            chunk_scores = chunk_scores + self.config.cue_weight * self.bm25.scores(asking)
        if added:
            seen = set(own) | set(asking)
            chunk_scores = chunk_scores + self.config.expansion_weight * self.bm25.scores(
                [t for t in added if t not in seen])
        chunk_scores = chunk_scores * self._section_weight
        if mask is not None:
            chunk_scores = np.where(mask, chunk_scores, 0.0)
        return _best_per_record(chunk_scores, self._chunk_record, len(self._records))

    def _dense(self, text: str, filters: Filters) -> dict[int, tuple[float, int]]:
        """record index → (best weighted cosine, chunk position), from Chroma's nearest chunks."""
        vector = self.index.embedder.encode_query(text)
        found = self.index.dense_search(vector, self.config.candidates * 3)
        best: dict[int, tuple[float, int]] = {}
        for chunk_id, cosine in found:
            position = self._position.get(chunk_id)
            if position is None:
                continue  # indexed after this process loaded its BM25: picked up on restart
            chunk = self.chunks[position]
            if not filters.allows(chunk):
                continue
            weighted = cosine * self.config.dense_section_weights.get(chunk.section, 0.3)
            record = int(self._chunk_record[position])
            if record not in best or weighted > best[record][0]:
                best[record] = (weighted, position)
        return best

    # -- the search ---------------------------------------------------------------------------
    def search(self, question: str, *, k: int = 5, filters: Filters | None = None) -> Retrieval:
        """Rank guides for ``question``; ``k`` hits at most, best first."""
        if k < 1:
            raise ValueError(f"k must be greater than 0. Currently, k is {k}")
        started = time.perf_counter()
        filters = filters or Filters()
        query = normalise_query(question, self.synonyms)
        if not query.text:
            return Retrieval(query, [], 0.0, 0.0, 0.0, time.perf_counter() - started)
        config = self.config
        mask = None
        if filters != Filters():
            mask = np.array([filters.allows(c) for c in self.chunks])
        # The same tokens as those of ``query.search_text``, kept apart to weigh the added terms less.
        own = self.tokenizer.tokens(query.text)
        added = self.tokenizer.tokens(" ".join(query.expansions)) if query.expansions else []
        tokens = own + added

        lexical, lexical_chunk = (np.zeros(len(self._records)), np.zeros(len(self._records), dtype=np.int64))
        counted = lexical  # BM25 as the confidence model was fitted on: every word of the question counted fully
        if config.mode != "dense":
            rest, asking = self._asking_apart(query.text, own)
            lexical, lexical_chunk = self._lexical(rest, asking, added, mask)
            counted = self._lexical(own, [], added, mask)[0] if asking else lexical
        dense: dict[int, tuple[float, int]] = {}
        if config.mode != "bm25":
            dense = self._dense(query.search_text, filters)

        lex_top = [int(i) for i in np.argsort(-lexical)[: config.candidates] if lexical[i] > 0]
        dense_top = sorted(dense, key=lambda r: -dense[r][0])[: config.candidates]
        fused = self._fuse(lexical, lex_top, dense, dense_top)
        # Scores equal up to float32 noise (one text embedded in two batches) tie: the more local copy, then the id.
        ranked = sorted(fused, key=lambda r: (-round(fused[r], 6), -self._record_depth[r], self._records[r]))[:k]
        hits = []
        for record in ranked:
            # The chunk that matched best: the lexical side's when it matched at all, else the dense side's.
            best_pos = int(lexical_chunk[record]) if lexical[record] > 0 else dense[record][1]
            hits.append(Hit(chunk=self.chunks[best_pos], score=float(fused[record]),
                            lexical=float(counted[record]), dense=float(dense.get(record, (0.0, 0))[0])))
        coverage = self._coverage(tokens, hits[0].record_id) if hits else 0.0
        words = max(1, sum(1 for t in tokens if t[0] not in "#@"))
        hits = [replace(h, confidence=self.calibration.confidence(
                    h.dense, coverage if i == 0 else self._coverage(tokens, h.record_id), h.lexical / words,
                    len(query.text)))
                for i, h in enumerate(hits)]
        unmatched: tuple[str, ...] = ()
        if "named" not in config.without:
            hits, unmatched = self._check_named(query.text, query.search_text, hits)
        confidence = hits[0].confidence if hits else 0.0
        margin = confidence - hits[1].confidence if len(hits) > 1 else confidence
        return Retrieval(query, hits, coverage, confidence, margin, time.perf_counter() - started, words, unmatched)

    def _speaks_of(self, term: NamedTerm, record_id: str, context: str) -> bool | None:
        return speaks_of(term, self._record_text.get(record_id, ""), self._record_names.get(record_id, ""), context,
                         self.synonyms, self.tokenizer)

    def _check_named(self, text: str, context: str, hits: list[Hit]) -> tuple[list[Hit], tuple[str, ...]]:
        """Guides about another thing of the kind the question names (食品经营许可 for "药品经营许可证"), and
        guides that never say the one word it names while another found does ("无房证明"; see
        ``assistant.named``), fall below the refusal threshold and behind the other guides. Returns the hits,
        and the terms that some guide was ruled out for and none has, for the reply to say what is not in
        the knowledge."""
        terms, things = names_of(text, self.tokenizer) if hits else ([], [])
        lacking_thing: set[str] = set()
        for thing in things:
            has = {h.record_id for h in hits if has_thing(thing, self._record_text[h.record_id], self.synonyms)}
            if has:
                lacking_thing |= {h.record_id for h in hits} - has
        if not terms and not lacking_thing:
            return hits, ()
        judged = {h.record_id: [self._speaks_of(t, h.record_id, context) for t in terms] for h in hits}
        lacking = {r for r, verdicts in judged.items() if False in verdicts} | lacking_thing
        nowhere: set[int] = set()  # terms no guide found is about, nor of their kind
        for i, term in enumerate(terms):
            # only for heads of a kind (补贴, 许可证), not a made-up "运输证" the guide calls 运输许可
            if term.head in HEADS and any(v[i] is False for v in judged.values()):
                # Others of the kind were ruled out; a guide without the kind at all is no better ("住房租赁
                # 补贴": 育儿补贴 is another subsidy, 住房公积金提取（租房） is no subsidy).
                lacking |= {r for r, v in judged.items() if v[i] is None and
                            not has_head(term, self._record_text[r], self._record_names.get(r, ""))}
            elif term.head in HEADS and all(v[i] is None for v in judged.values()):
                # No guide found speaks of the thing or of its kind ("残疾人就业保障金" among 员工录用 and 就业登记):
                # the knowledge has no guide for it, however well the other words match.
                kindless = {r for r in judged
                            if not has_head(term, self._record_text[r], self._record_names.get(r, ""))}
                lacking |= kindless
                if kindless == set(judged):
                    nowhere.add(i)
        if not lacking:
            return hits, ()
        cap = self.calibration.refuse_below * UNMATCHED_CAP
        hits = sorted((replace(h, confidence=min(h.confidence, cap)) if h.record_id in lacking else h for h in hits),
                      key=lambda h: h.record_id in lacking)  # stable: the ranking among the rest stays
        unknown = tuple(t.said for i, t in enumerate(terms) if i in nowhere or
                        any(v[i] is False for v in judged.values()) and not any(v[i] for v in judged.values()))
        return hits, unknown

    def lacks_named(self, question: str, record_id: str) -> bool:
        """Does the question name another thing of a kind this guide is about ("药品经营许可证呢" while
        食品经营许可 is under discussion)?"""
        if "named" in self.config.without:
            return False
        query = normalise_query(question, self.synonyms)
        return any(self._speaks_of(t, record_id, query.search_text) is False
                   for t in named_terms(query.text, self.tokenizer))

    def sections_having(self, record_id: str, thing: str) -> set[str]:
        """The sections of a record whose text has ``thing`` (as ``assistant.named.has_thing`` reads it)."""
        return {self.chunks[p].section for p in self._record_chunks.get(record_id, [])
                if has_thing(thing, self.chunks[p].text, self.synonyms)}

    def passages(self, record_id: str, pattern: re.Pattern[str], *, n: int = 2,
                 skip: tuple[str, ...] = ("name", "aliases")) -> list[Chunk]:
        """The record's first ``n`` chunks whose text matches ``pattern``, sections in ``skip`` aside."""
        found = [self.chunks[p] for p in self._record_chunks.get(record_id, [])
                 if self.chunks[p].section not in skip and pattern.search(self.chunks[p].text)]
        return found[:n]

    def record_text(self, record_id: str) -> str:
        """All indexed text of one guide or theme (normalised), or "" for an unknown id."""
        return self._record_text.get(record_id, "")

    def best_chunks(self, question: str, record_id: str, *, skip: tuple[str, ...] = (), n: int = 2) -> list[Chunk]:
        """The record's chunks that share the most with the question (BM25), best first."""
        query = normalise_query(question, self.synonyms)
        positions = [p for p in self._record_chunks.get(record_id, []) if self.chunks[p].section not in skip]
        if not positions:
            return []
        # Every chunk starts with the record's name, so the name's own terms tell nothing here.
        name = self.chunks[positions[0]].name
        tokens = [t for t in self.tokenizer.tokens(query.search_text) if t[0] != "@" and t.lstrip("#") not in name]
        if not tokens:
            return []
        scores = self.bm25.scores(tokens)[positions]
        ranked = sorted(zip(scores.tolist(), positions, strict=True), reverse=True)
        best = ranked[0][0]
        return [self.chunks[p] for score, p in ranked[:n] if score > 0 and score >= 0.6 * best]

    def _fuse(self, lexical: np.ndarray, lex_top: list[int], dense: dict[int, tuple[float, int]],
              dense_top: list[int]) -> dict[int, float]:
        config = self.config
        fused: dict[int, float] = {}
        if config.fusion == "rrf":
            for weight, ranking in ((config.lexical_weight, lex_top), (config.dense_weight, dense_top)):
                for rank, record in enumerate(ranking):
                    fused[record] = fused.get(record, 0.0) + weight / (config.rrf_k + rank + 1)
            return fused
        if config.fusion == "zscore":
            # Each side as standard scores over its own candidates: e5's cosines sit close together
            # (0.84–0.95), so raw they would barely move the ranking; a guide one side did not find
            # gets that side's lowest score.
            lex_z = _standard({r: float(lexical[r]) for r in lex_top})
            den_z = _standard({r: dense[r][0] for r in dense_top})
            lex_floor = min(lex_z.values(), default=0.0)
            den_floor = min(den_z.values(), default=0.0)
            return {r: config.lexical_weight * lex_z.get(r, lex_floor) + config.dense_weight * den_z.get(r, den_floor)
                    for r in set(lex_top) | set(dense_top)}
        lex_max = float(lexical[lex_top[0]]) if lex_top else 0.0
        dense_low, dense_span = 0.0, 1.0
        if config.fusion == "minmax" and dense_top:
            # the dense side spread over 0..1 among its candidates, as the lexical side is by its best
            dense_low = dense[dense_top[-1]][0]
            dense_span = max(dense[dense_top[0]][0] - dense_low, 1e-9)
        for record in set(lex_top) | set(dense_top):
            lex = float(lexical[record]) / lex_max if lex_max > 0 else 0.0
            den = (dense[record][0] - dense_low) / dense_span if record in dense else 0.0
            fused[record] = config.lexical_weight * lex + config.dense_weight * den
        return fused

    def _coverage(self, tokens: list[str], record_id: str) -> float:
        """Share of the question's distinct words and bigrams that occur in the guide's text."""
        terms = {t for t in tokens if t[0] != "@"}
        if not terms:
            return 0.0
        text = self._record_text[record_id]
        return sum(1 for t in terms if t.lstrip("#") in text) / len(terms)


def _standard(scores: dict[int, float]) -> dict[int, float]:
    """Standard scores (x - mean) / sd; all 0 when there is no spread."""
    if not scores:
        return {}
    values = np.fromiter(scores.values(), dtype=np.float64)
    spread = float(values.std())
    mean = float(values.mean())
    return {r: (v - mean) / spread if spread > 1e-9 else 0.0 for r, v in scores.items()}


def _best_per_record(chunk_scores: np.ndarray, chunk_record: np.ndarray, n_records: int) -> tuple[np.ndarray,
                                                                                                 np.ndarray]:
    order = np.lexsort((-chunk_scores, chunk_record))  # by record, best chunk first
    first = np.ones(len(order), dtype=bool)
    first[1:] = chunk_record[order][1:] != chunk_record[order][:-1]
    best_chunk = np.zeros(n_records, dtype=np.int64)
    best_score = np.zeros(n_records, dtype=np.float32)
    records = chunk_record[order][first]
    best_chunk[records] = order[first]
    best_score[records] = chunk_scores[order][first]
    return best_score, best_chunk


class HybridRetriever(BaseRetriever):
    """LangChain face of :class:`HybridSearch`: one Document per guide, metadata carries the hit."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    search: HybridSearch
    k: int = 5
    filters: Filters = Filters()

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        result = self.search.search(query, k=self.k, filters=self.filters)
        return [hit_document(h) for h in result.hits]


def hit_document(hit: Hit) -> Document:
    return Document(
        id=hit.chunk.id,
        page_content=hit.chunk.text,
        metadata={**hit.chunk.metadata(), "score": hit.score, "lexical": hit.lexical, "dense": hit.dense,
                  "confidence": hit.confidence},
    )
