"""Any sentence-transformers model, from a local directory or (with network) a hub id."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.embedders.base import Embedder, l2_normalise

# BGE Chinese models want this before a query (not before documents).
BGE_ZH_QUERY_INSTRUCTION = "为这个句子生成表示以用于检索相关文章："


class SentenceTransformerEmbedder(Embedder):
    """``query_instruction`` is prefixed to queries only; ``None`` picks it by model name."""

    def __init__(self, model: str, *, query_instruction: str | None = None, device: str = "cpu") -> None:
        if not model.strip():
            raise ValueError("model must name a sentence-transformers model or directory. Currently, model is ''")
        self.model = model
        if query_instruction is None:
            query_instruction = BGE_ZH_QUERY_INSTRUCTION if "bge" in model.lower() and "zh" in model.lower() else ""
        self.query_instruction = query_instruction
        self.device = device
        self._model: Any = None
        self.turn = threading.Lock()  # one encoding at a time, as LocalModelEmbedder

    @property
    def identity(self) -> str:
        name = Path(self.model).name if Path(self.model).exists() else self.model
        return f"st:{name}:{self.query_instruction or 'noinstr'}"

    def _loaded(self) -> Any:
        if self._model is None:
            # With a hub id and no network the hub client waits forever: never let it try.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as err:
                raise ImportError(
                    "the sentence-transformers embedder needs the 'st' extra: pip install 'banshi[st]'"
                ) from err
            self._model = SentenceTransformer(self.model, device=self.device)
        return self._model

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        with self.turn:
            vectors = self._loaded().encode(list(texts), batch_size=32, convert_to_numpy=True,
                                            show_progress_bar=False)
        return l2_normalise(vectors)

    def encode_query(self, text: str) -> np.ndarray:
        with self.turn:
            vector = self._loaded().encode([self.query_instruction + text], convert_to_numpy=True,
                                           show_progress_bar=False)
        return l2_normalise(vector)[0]
