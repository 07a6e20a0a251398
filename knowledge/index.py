"""The knowledge index: vectors in Chroma, records, chunks and BM25 tokens in SQLite beside it.

SQLite is the book of record: which guides and themes are indexed, from which origin, with which
content hash, and every chunk's text and tokens. Chroma holds one vector per chunk under the same
id. The embedder's identity is recorded in both and two embedders never mix.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.embedders.base import Embedder
from knowledge.errors import IndexMismatchError
from knowledge.records import Chunk
from knowledge.schema import Hall, Pack, ServiceGuide, Theme

logger = logging.getLogger(__name__)

SCHEMA_VERSION = "1"
GENERATION = "generation"  # meta key: a digest of the indexed knowledge, rewritten by every ingest

# Chroma keeps one client per path and process, with its vectors in memory: what another process
# (`banshi ingest` beside a running server) writes stays invisible until that cache is dropped.
_chroma_lock = threading.Lock()
_chroma_epoch = 0
_SQL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, origin TEXT NOT NULL,
    content_hash TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, record_id TEXT NOT NULL, text TEXT NOT NULL,
    tokens TEXT NOT NULL, meta TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_record ON chunks(record_id);
"""


@dataclass(frozen=True)
class RecordState:
    id: str
    type: str
    origin: str
    content_hash: str


class KnowledgeIndex:
    """Open (or create) the index in ``data_dir``; ``chroma_url`` switches to a Chroma server."""

    def __init__(
        self,
        data_dir: Path,
        embedder: Embedder,
        *,
        collection: str = "banshi-knowledge",
        chroma_url: str | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.embedder = embedder
        self.collection_name = collection
        self.chroma_url = chroma_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.data_dir / "index.sqlite", check_same_thread=False)
        self._db.executescript(_SQL)
        self._collection: Any = None
        self._epoch = _chroma_epoch
        self._check_identity()

    # -- identity ---------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
        self._db.commit()

    def _check_identity(self) -> None:
        stored = self.meta("embedder")
        if stored is not None and stored != self.embedder.identity:
            raise IndexMismatchError(
                f"the index in {self.data_dir} was built with embedder {stored!r}, "
                f"not {self.embedder.identity!r}: rebuild it (ingest --rebuild) or use another data dir"
            )
        schema = self.meta("schema_version")
        if schema is not None and schema != SCHEMA_VERSION:
            raise IndexMismatchError(
                f"the index in {self.data_dir} has schema {schema}, this version needs {SCHEMA_VERSION}: "
                "rebuild it (ingest --rebuild)"
            )

    # -- chroma -----------------------------------------------------------------------------
    @staticmethod
    def reopen_vectors() -> None:
        """Drop this process's cached Chroma clients, so every index's next query reads the vectors as
        they are on disk now (after another process ingested). Queries in flight finish first."""
        global _chroma_epoch
        from chromadb.api.shared_system_client import SharedSystemClient

        with _chroma_lock:
            SharedSystemClient.clear_system_cache()
            _chroma_epoch += 1

    def _client(self) -> Any:
        import chromadb  # deferred: heavy import

        if self.chroma_url:
            from urllib.parse import urlparse

            url = urlparse(self.chroma_url)
            return chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                       ssl=url.scheme == "https")
        return chromadb.PersistentClient(path=str(self.data_dir / "chroma"))

    @property
    def collection(self) -> Any:
        if self._collection is None or self._epoch != _chroma_epoch:
            self._epoch = _chroma_epoch
            # embedding_function=None: Chroma's default would download a model; we pass vectors.
            self._collection = self._client().get_or_create_collection(
                self.collection_name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": self.embedder.identity},
            )
            stored = (self._collection.metadata or {}).get("embedder")
            if stored != self.embedder.identity:
                raise IndexMismatchError(
                    f"Chroma collection {self.collection_name!r} holds vectors of {stored!r}, "
                    f"not {self.embedder.identity!r}: rebuild it (ingest --rebuild)"
                )
        return self._collection

    @staticmethod
    def wipe(data_dir: Path, *, collection: str = "banshi-knowledge", chroma_url: str | None = None) -> None:
        """Delete an index whatever embedder built it (for ``ingest --rebuild``)."""
        db_file = Path(data_dir) / "index.sqlite"
        if db_file.exists():
            db_file.unlink()
        probe = object.__new__(KnowledgeIndex)
        probe.data_dir, probe.chroma_url = Path(data_dir), chroma_url
        if chroma_url or (Path(data_dir) / "chroma").exists():
            client = probe._client()
            if any(c.name == collection for c in client.list_collections()):
                client.delete_collection(collection)

    def reset(self) -> None:
        """Forget everything: drop the collection and all tables' rows."""
        client = self._client()
        if any(c.name == self.collection_name for c in client.list_collections()):
            client.delete_collection(self.collection_name)
        self._collection = None
        self._db.executescript("DELETE FROM meta; DELETE FROM records; DELETE FROM chunks;")  # packs are in meta
        self._db.commit()

    # -- records ----------------------------------------------------------------------------
    def record_states(self) -> dict[str, RecordState]:
        rows = self._db.execute("SELECT id, type, origin, content_hash FROM records")
        return {r[0]: RecordState(*r) for r in rows}

    def record(self, record_id: str) -> ServiceGuide | Theme | None:
        row = self._db.execute("SELECT type, body FROM records WHERE id = ?", (record_id,)).fetchone()
        if row is None:
            return None
        model = Theme if row[0] == "theme" else ServiceGuide
        return model.model_validate_json(row[1])

    def records(self) -> list[ServiceGuide | Theme]:
        out: list[ServiceGuide | Theme] = []
        for kind, body in self._db.execute("SELECT type, body FROM records ORDER BY id"):
            out.append(Theme.model_validate_json(body) if kind == "theme" else ServiceGuide.model_validate_json(body))
        return out

    def put_pack(self, pack: Pack) -> None:
        self.set_meta(f"pack:{pack.name}", pack.model_dump_json())

    def stamp(self) -> str:
        """Record a digest of everything indexed (records, packs, tokenizer) as the index's generation.

        A running server compares it (see :func:`read_generation`) to notice that the knowledge changed.
        """
        digest = hashlib.sha256()
        for row in self._db.execute("SELECT id, content_hash FROM records ORDER BY id"):
            digest.update("\t".join(row).encode() + b"\n")
        for row in self._db.execute(
                "SELECT key, value FROM meta WHERE key LIKE 'pack:%' OR key = 'tokenizer' ORDER BY key"):
            digest.update("\t".join(row).encode() + b"\n")
        generation = digest.hexdigest()[:16]
        if self.meta(GENERATION) != generation:
            self.set_meta(GENERATION, generation)
        return generation

    def packs(self) -> list[Pack]:
        rows = self._db.execute("SELECT value FROM meta WHERE key LIKE 'pack:%' ORDER BY key")
        return [Pack.model_validate_json(r[0]) for r in rows]

    def halls(self) -> list[Hall]:
        return [hall for pack in self.packs() for hall in pack.halls]

    def chunk_ids(self, record_id: str) -> set[str]:
        rows = self._db.execute("SELECT id FROM chunks WHERE record_id = ?", (record_id,))
        return {r[0] for r in rows}

    def orphan_chunk_ids(self, keep: set[str]) -> list[str]:
        """Chunks of no indexed record (left by an interrupted ingest), except those of the records in ``keep``."""
        rows = self._db.execute("SELECT id, record_id FROM chunks WHERE record_id NOT IN (SELECT id FROM records)")
        return [chunk_id for chunk_id, record_id in rows if record_id not in keep]

    def count(self) -> dict[str, int]:
        guides, themes = (
            self._db.execute("SELECT COUNT(*) FROM records WHERE type = ?", (t,)).fetchone()[0]
            for t in ("guide", "theme")
        )
        chunks = self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return {"guides": guides, "themes": themes, "chunks": chunks}

    def count_by_origin(self, origins: Iterable[str]) -> dict[str, int]:
        """Guides, themes and chunks indexed from the given origins."""
        origins = list(origins)
        marks = _placeholders(len(origins))
        rows = dict(self._db.execute(
            f"SELECT type, COUNT(*) FROM records WHERE origin IN ({marks}) GROUP BY type", origins).fetchall())
        chunks = self._db.execute(
            f"SELECT COUNT(*) FROM chunks JOIN records ON chunks.record_id = records.id "
            f"WHERE records.origin IN ({marks})", origins).fetchone()[0]
        return {"guides": rows.get("guide", 0), "themes": rows.get("theme", 0), "chunks": chunks}

    # -- writing ----------------------------------------------------------------------------
    def passages(self, chunks: Sequence[Chunk]) -> list[tuple[Chunk, str]]:
        """The chunks the embedder gives a vector, each with the text it embeds (see ``Embedder.passage_of``)."""
        return [(c, text) for c in chunks if (text := self.embedder.passage_of(c.section, c.text))]

    def add_chunks(self, chunks: Sequence[Chunk], vectors: np.ndarray, tokens: Sequence[list[str]]) -> None:
        """Store chunks with their BM25 tokens, and the vectors of those that :meth:`passages` names, in its
        order (Chroma first, then SQLite)."""
        if not chunks:
            return
        if self.meta("embedder") is None:
            self.set_meta("embedder", self.embedder.identity)
            self.set_meta("schema_version", SCHEMA_VERSION)
        embedded = [c for c, _ in self.passages(chunks)]
        if len(embedded) != len(vectors):
            raise ValueError(f"{len(embedded)} chunks to embed but {len(vectors)} vectors")
        if embedded:
            # upsert, not add: after an interrupted run Chroma may already hold some of these ids.
            self.collection.upsert(
                ids=[c.id for c in embedded],
                embeddings=np.asarray(vectors, dtype=np.float32),
                documents=[c.text for c in embedded],
                metadatas=[c.metadata() for c in embedded],  # type: ignore[misc]
            )
        self._db.executemany(
            "INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?)",
            [(c.id, c.record_id, c.text, " ".join(t), json.dumps(c.metadata(), ensure_ascii=False))
             for c, t in zip(chunks, tokens, strict=True)],
        )
        self._db.commit()

    def delete_chunks(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if not ids:
            return
        for start in range(0, len(ids), 5000):
            batch = ids[start : start + 5000]
            self.collection.delete(ids=batch)
            self._db.executemany("DELETE FROM chunks WHERE id = ?", [(i,) for i in batch])
        self._db.commit()

    def put_record(self, record: ServiceGuide | Theme, origin: str, content_hash: str) -> None:
        kind = "theme" if isinstance(record, Theme) else "guide"
        self._db.execute(
            "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?)",
            (record.id, kind, origin, content_hash, record.model_dump_json(exclude_defaults=True)),
        )
        self._db.commit()

    def delete_record(self, record_id: str) -> None:
        self.delete_chunks(self.chunk_ids(record_id))
        self._db.execute("DELETE FROM records WHERE id = ?", (record_id,))
        self._db.commit()

    def retokenize(self, tokenize: Any) -> int:
        """Recompute every chunk's BM25 tokens (after the user dictionary changed)."""
        rows = self._db.execute("SELECT id, text FROM chunks").fetchall()
        self._db.executemany("UPDATE chunks SET tokens = ? WHERE id = ?",
                             [(" ".join(tokenize(text)), cid) for cid, text in rows])
        self._db.commit()
        return len(rows)

    # -- reading for retrieval ----------------------------------------------------------------
    def all_chunks(self) -> list[tuple[Chunk, list[str]]]:
        rows = self._db.execute("SELECT id, text, tokens, meta FROM chunks ORDER BY id")
        # Interned: the same few hundred thousand tokens recur across chunks (saves ~100 MB at 2,300 guides), and
        # so do a guide's name, region and link in each of its chunks (~120 MB at 20,000 guides).
        shared: dict[object, object] = {}
        return [(Chunk.from_metadata(cid, text, json.loads(meta), shared=shared),
                 [sys.intern(t) for t in tokens.split()]) for cid, text, tokens, meta in rows]

    def chunk_tokens(self) -> list[tuple[str, list[str]]]:
        """Each chunk's id and BM25 tokens, in the order of :meth:`all_chunks`."""
        rows = self._db.execute("SELECT id, tokens FROM chunks ORDER BY id")
        return [(chunk_id, [sys.intern(t) for t in tokens.split()]) for chunk_id, tokens in rows]

    def dense_search(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """``(chunk_id, cosine similarity)`` best first."""
        if k < 1:
            raise ValueError(f"k must be greater than 0. Currently, k is {k}")
        with _chroma_lock:  # Chroma 1.x returns fewer than k (or none) from a smaller collection: no count first
            result = self.collection.query(
                query_embeddings=[np.asarray(vector, dtype=np.float32)],
                n_results=k,
                where=where,
                include=["distances"],
            )
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0], strict=True)]

    def close(self) -> None:
        self._db.close()


def _placeholders(n: int) -> str:
    return ",".join("?" * n)


def read_meta(data_dir: Path, key: str) -> str | None:
    """One meta value of the index in ``data_dir`` (e.g. ``embedder``), without opening the index; None if absent."""
    path = Path(data_dir) / "index.sqlite"
    if not path.exists():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def read_generation(data_dir: Path) -> tuple[int, str | None]:
    """``(inode of index.sqlite, generation)`` as on disk now, cheaply, without opening the index.

    The inode changes when ``ingest --rebuild`` replaces the file; ``(0, None)`` while there is none.
    """
    path = Path(data_dir) / "index.sqlite"
    try:
        inode = path.stat().st_ino
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (GENERATION,)).fetchone()
    except (OSError, sqlite3.Error):
        return 0, None
    return inode, row[0] if row else None
