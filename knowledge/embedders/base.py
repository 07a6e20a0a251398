"""The embedder base: LangChain ``Embeddings`` plus an identity for the index to record."""

from __future__ import annotations

import threading
from abc import abstractmethod
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings


class Embedder(Embeddings):
    """Documents and queries are encoded apart (BGE-style models prefix queries only)."""

    @property
    @abstractmethod
    def identity(self) -> str:
        """A stable name of the model and its settings; vectors of two identities never mix."""

    @property
    def query_identity(self) -> str:
        """What query vectors depend on: the identity, less any choice of what passages are embedded."""
        return self.identity

    @abstractmethod
    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised."""

    @abstractmethod
    def encode_query(self, text: str) -> np.ndarray:
        """(dim,) float32, L2-normalised."""

    def passage_of(self, section: str, text: str) -> str | None:
        """What of a chunk of ``section`` this model embeds, or None for no vector (the chunk is then found
        by BM25 alone). By default the whole chunk."""
        return text

    def warm_up(self) -> None:
        """Load the model now rather than on the first request."""
        self.encode_query("预热")

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_documents(texts).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.encode_query(text).tolist()  # type: ignore[no-any-return]


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class LocalModelEmbedder(Embedder):
    """A model that runs in this process on ``threads`` threads, loaded on first use.

    One encoding at a time (``self.turn``): the model already uses the cores it is given, and forty request
    threads encoding at once each asked the BLAS library for its threads, so every question waited on all
    the others (a burst of 150 questions took 8 s instead of under 1 s of model time).
    """

    def __init__(self, threads: int = 2) -> None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1. Currently, threads is {threads}")
        self.threads = threads
        self._model: Any = None
        self.turn = threading.Lock()
