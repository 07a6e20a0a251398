"""Okapi BM25 over chunk tokens, vectorised with numpy; scores every chunk for a query at once."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np


class BM25:
    """Query tokens weigh by kind: words 1, ``#`` bigrams ``bigram_weight``, ``@`` characters ``unigram_weight``."""

    def __init__(self, documents: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.75,
                 bigram_weight: float = 0.5, unigram_weight: float = 0.7) -> None:
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"k1 must be >= 0 and b in [0, 1]. Currently, k1 is {k1} and b is {b}")
        self.size = len(documents)
        self.weights = {"#": bigram_weight, "@": unigram_weight}
        lengths = np.array([len(d) for d in documents], dtype=np.float32)
        average = float(lengths.mean()) if self.size else 1.0
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for doc_id, tokens in enumerate(documents):
            for token, tf in Counter(tokens).items():
                ids, tfs = postings.setdefault(token, ([], []))
                ids.append(doc_id)
                tfs.append(tf)
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for token, (ids, tfs) in postings.items():
            doc_ids = np.array(ids, dtype=np.int32)
            frequencies = np.array(tfs, dtype=np.float32)
            idf = math.log(1 + (self.size - len(ids) + 0.5) / (len(ids) + 0.5))
            norm = k1 * (1 - b + b * lengths[doc_ids] / max(average, 1e-6))
            weights = idf * frequencies * (k1 + 1) / (frequencies + norm)
            self._postings[token] = (doc_ids, weights.astype(np.float32))

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """One score per document (zeros where no token matches)."""
        out = np.zeros(self.size, dtype=np.float32)
        for token in dict.fromkeys(query_tokens):  # each distinct token once, in order
            posting = self._postings.get(token)
            if posting is None:
                continue
            weight = self.weights.get(token[0], 1.0)
            np.add.at(out, posting[0], weight * posting[1])
        return out

    def knows(self, token: str) -> bool:
        return token in self._postings
