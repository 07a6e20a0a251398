"""The ingest pipeline: sources → validated records → normalised → chunks → vectors → index.

Re-running on the same input changes nothing; a changed record replaces only the chunks whose
text or metadata changed; a record that disappeared from its source loses its chunks. An interrupted
run (Ctrl-C, a killed process) is resumed by running it again: the chunks it stored are kept. Every
record is either indexed or reported with a reason.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from ingest.chunker import chunk_record, content_hash
from ingest.importers import MAPPINGS, detect_mapping, import_export
from ingest.normalise import normalise_record
from knowledge.errors import KnowledgeError
from knowledge.index import KnowledgeIndex
from knowledge.loader import RECORD_SUFFIXES, Loaded, Reject, describe_validation_error, load_file, load_pack
from knowledge.records import Chunk
from knowledge.schema import ServiceGuide, Theme
from knowledge.tokenize import Tokenizer

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total) chunks embedded


@dataclass
class IngestReport:
    guides: int = 0  # guides and themes now indexed from these sources
    themes: int = 0
    chunks: int = 0  # chunks now indexed from these sources
    added: int = 0  # records new to the index
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    rejected: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        out = {k: v for k, v in self.__dict__.items() if k not in ("rejected",)}
        out["rejected"] = [{"file": r.file, "record": r.record, "reason": r.reason} for r in self.rejected]
        out["seconds"] = round(self.seconds, 2)
        return out


def load_source(path: Path, format_name: str | None = None) -> Loaded:
    """Load a pack folder, a knowledge file or a known third-party export.

    Raises KnowledgeError when the path does not exist or is of no known kind.
    """
    if not path.exists():
        raise KnowledgeError(f"{path}: no such file or folder")
    if path.is_dir():
        return load_pack(path)
    if path.suffix.lower() not in RECORD_SUFFIXES:
        raise KnowledgeError(f"{path}: not a pack folder or a .yaml/.json/.jsonl file")
    if format_name:
        if format_name not in MAPPINGS:
            raise KnowledgeError(f"unknown import format {format_name!r}; known: {', '.join(MAPPINGS)}")
        return import_export(path, MAPPINGS[format_name])
    mapping = detect_mapping(path, MAPPINGS.values())
    return import_export(path, mapping) if mapping else load_file(path)


def _normalised(loaded: Loaded) -> tuple[list[ServiceGuide | Theme], list[Reject]]:
    records: list[ServiceGuide | Theme] = []
    rejects: list[Reject] = []
    seen: set[str] = set()
    candidates: list[ServiceGuide | Theme] = [*loaded.guides, *loaded.themes]
    for record in candidates:
        if record.id in seen:
            rejects.append(Reject(loaded.origin, f"id {record.id}", "duplicate id: an earlier record has it"))
            continue
        seen.add(record.id)
        try:
            records.append(normalise_record(record))
        except ValidationError as err:
            rejects.append(Reject(loaded.origin, f"id {record.id}", describe_validation_error(err)))
    return records, rejects


def user_words(records: Sequence[ServiceGuide | Theme]) -> list[str]:
    """Government terms for jieba: names, aliases and material names from the knowledge."""
    words: set[str] = set()
    for record in records:
        words.add(record.name)
        words.update(record.aliases)
        words.update(m.name for m in record.materials)
    return sorted(words)


class Ingestor:
    """Brings an index up to date with a set of sources."""

    def __init__(self, index: KnowledgeIndex, *, batch_size: int = 64, progress: Progress | None = None) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be greater than 0. Currently, batch_size is {batch_size}")
        self.index = index
        self.batch_size = batch_size
        self.progress = progress

    def run(self, loaded_sources: Sequence[Loaded]) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport(sources=[s.origin for s in loaded_sources])
        states = self.index.record_states()
        batch: dict[str, tuple[ServiceGuide | Theme, str]] = {}
        for loaded in loaded_sources:
            if loaded.pack is not None:
                self.index.put_pack(loaded.pack)  # its halls: kiosk answers name the hall they stand in
            report.rejected.extend(loaded.rejects)
            records, rejects = _normalised(loaded)
            report.rejected.extend(rejects)
            for record in records:
                owner = batch[record.id][1] if record.id in batch else (
                    states[record.id].origin if record.id in states else None)
                if owner is not None and owner != loaded.origin:
                    report.rejected.append(Reject(loaded.origin, f"id {record.id}",
                                                  f"duplicate id: already indexed from {owner}"))
                    continue
                batch[record.id] = (record, loaded.origin)

        # Everything the base will hold once this run is written: for theme item names and jieba's dictionary.
        knowledge = {r.id: r for r in self.index.records()}
        knowledge.update({rid: rec for rid, (rec, _) in batch.items()})
        names = {rid: r.name for rid, r in knowledge.items()}
        for record, _origin in batch.values():
            if isinstance(record, Theme):
                missing = [i for i in record.items if i not in names]
                for item in missing:
                    report.warnings.append(f"theme {record.id}: item {item!r} is not in the knowledge base")

        to_write: list[tuple[ServiceGuide | Theme, str, str]] = []
        new_chunks: list[Chunk] = []
        stale_chunk_ids: list[str] = []
        for record_id, (record, origin) in batch.items():
            context = "|".join(names.get(i, i) for i in record.items) if isinstance(record, Theme) else ""
            digest = content_hash(record, origin, context)
            state = states.get(record_id)
            if state is not None and state.content_hash == digest:
                report.unchanged += 1
                continue
            chunks = chunk_record(record, origin, lambda i: names.get(i, i))
            # Also for a record not yet indexed: an interrupted run may have stored some of its chunks, and a
            # chunk's id is a digest of its text and metadata, so those are kept and not embedded again.
            old_ids = self.index.chunk_ids(record_id)
            new_ids = {c.id for c in chunks}
            new_chunks.extend(c for c in chunks if c.id not in old_ids)
            stale_chunk_ids.extend(old_ids - new_ids)
            to_write.append((record, origin, digest))
            if state is None:
                report.added += 1
            else:
                report.updated += 1

        origins = {s.origin for s in loaded_sources}
        removed = [rid for rid, s in states.items() if s.origin in origins and rid not in batch]
        for record_id in removed:
            stale_chunk_ids.extend(self.index.chunk_ids(record_id))
        # Chunks an interrupted run stored for a record that is no longer in any source of this run.
        stale_chunk_ids.extend(self.index.orphan_chunk_ids(keep=set(batch)))

        for record_id in removed:
            knowledge.pop(record_id, None)
        self._write(new_chunks, stale_chunk_ids, to_write, removed, list(knowledge.values()))
        report.removed = len(removed)
        report.chunks_added = len(new_chunks)
        report.chunks_removed = len(stale_chunk_ids)
        counts = self.index.count_by_origin(origins)
        report.guides, report.themes, report.chunks = counts["guides"], counts["themes"], counts["chunks"]
        self.index.stamp()  # last: a running server reloads only a finished ingest
        report.seconds = time.perf_counter() - started
        return report

    def _write(
        self,
        new_chunks: list[Chunk],
        stale_chunk_ids: list[str],
        to_write: list[tuple[ServiceGuide | Theme, str, str]],
        removed: list[str],
        knowledge: list[ServiceGuide | Theme],
    ) -> None:
        tokenizer = Tokenizer(user_words(knowledge))
        if not (new_chunks or stale_chunk_ids or to_write or removed) and \
                self.index.meta("tokenizer") in (None, tokenizer.version):
            return  # nothing changed: no model, no jieba, no Chroma writes
        if self.index.meta("tokenizer") not in (None, tokenizer.version):
            retokenized = self.index.retokenize(tokenizer.tokens)
            logger.info("tokenizer or user dictionary changed: re-tokenised %s chunks", retokenized)
        self.index.delete_chunks(stale_chunk_ids)
        total = len(new_chunks)
        for start in range(0, total, self.batch_size):
            part = new_chunks[start : start + self.batch_size]
            vectors = self.index.embedder.encode_documents([text for _, text in self.index.passages(part)])
            self.index.add_chunks(part, vectors, [tokenizer.tokens(c.text) for c in part])
            if self.progress:
                self.progress(min(start + self.batch_size, total), total)
        # Records last: an interrupted run leaves them "changed", so the next run finishes them.
        for record, origin, digest in to_write:
            self.index.put_record(record, origin, digest)
        for record_id in removed:
            self.index.delete_record(record_id)
        self.index.set_meta("tokenizer", tokenizer.version)
        self.index.set_meta("user_words", json.dumps(tokenizer.user_words, ensure_ascii=False))
