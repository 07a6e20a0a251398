"""One assembly function: settings in, a ready assistant part out. app.py, the CLI and evals use it."""

from __future__ import annotations

from assistant.query import load_synonyms
from assistant.retriever import HybridSearch, RetrievalConfig
from knowledge.embedders import make_embedder
from knowledge.errors import ConfigError
from knowledge.index import KnowledgeIndex
from knowledge.settings import Settings


def open_index(settings: Settings) -> KnowledgeIndex:
    embedder = make_embedder(settings.embedder, threads=settings.embed_threads)
    return KnowledgeIndex(settings.data_dir, embedder, collection=settings.collection, chroma_url=settings.chroma_url)


def build_search(settings: Settings, config: RetrievalConfig | None = None) -> HybridSearch:
    """Open the index in ``settings.data_dir`` and load the hybrid search over it.

    Raises ConfigError when the index is empty (nothing ingested yet).
    """
    index = open_index(settings)
    if index.count()["chunks"] == 0:
        raise ConfigError(f"the index in {settings.data_dir} is empty: run `banshi ingest` first")
    search = HybridSearch(index, load_synonyms(settings.synonyms), config)
    search.warm_up()
    return search
