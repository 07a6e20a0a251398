"""Read knowledge files (YAML, JSON, JSONL) and packs into validated records.

A bad record never stops the batch: it becomes a :class:`Reject` naming file, record and
field, and the good records still load.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from knowledge.errors import KnowledgeError
from knowledge.schema import Pack, ServiceGuide, Theme

RECORD_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl")


@dataclass(frozen=True)
class Reject:
    """A record that could not be taken, and why."""

    file: str
    record: str  # "#3" or the record's id when it has one
    reason: str

    def __str__(self) -> str:
        return f"{self.file} {self.record}: {self.reason}"


@dataclass
class Loaded:
    """What one source (a pack folder or a file) yielded."""

    origin: str
    pack: Pack | None = None
    guides: list[ServiceGuide] = field(default_factory=list)
    themes: list[Theme] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    raw_count: int = 0

    def add(self, result: BaseModel | Reject) -> None:
        """File a validated record, or its rejection, where it belongs."""
        if isinstance(result, Reject):
            self.rejects.append(result)
        elif isinstance(result, Theme):
            self.themes.append(result)
        elif isinstance(result, ServiceGuide):
            self.guides.append(result)

    def records(self, path: Path, shown: str) -> list[tuple[int, Any]]:
        """The raw records of ``path``; a file that cannot be parsed at all becomes one Reject."""
        try:
            return list(read_records(path))
        except KnowledgeError as err:
            self.rejects.append(Reject(shown, "(file)", str(err).split(": ", 1)[-1]))
            return []


def read_records(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_or_index, raw_record)`` from a YAML, JSON or JSONL file.

    Raises KnowledgeError when the file as a whole cannot be parsed (a JSONL file's bad line
    is yielded as an ``Exception`` instance instead, so the other lines still load).
    """
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise KnowledgeError(f"{path}: cannot read file: {err}") from err
    if suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as err:
                yield number, ValueError(f"invalid JSON: {err.msg} (column {err.colno})")
        return
    try:
        data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise KnowledgeError(f"{path}: cannot parse {suffix[1:].upper()}: {err}") from err
    if data is None:
        return
    records = data if isinstance(data, list) else [data]
    yield from enumerate(records, start=1)


def describe_validation_error(err: ValidationError) -> str:
    """One line per failing field: ``field.path: message (got 'value')``."""
    parts = []
    for problem in err.errors():
        where = ".".join(str(p) for p in problem["loc"]) or "(record)"
        got = problem.get("input")
        shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
        parts.append(f"{where}: {problem['msg']}{shown}")
    return "; ".join(parts)


def validate(model: type[BaseModel], raw: Any, file: str, position: int) -> BaseModel | Reject:
    """Validate one raw record; return the model or a Reject naming file, record and field."""
    label = f"#{position}"
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        label = f"#{position} (id {raw['id']})"
    if isinstance(raw, Exception):
        return Reject(file, label, str(raw))
    if not isinstance(raw, dict):
        return Reject(file, label, f"expected a mapping of fields, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        return Reject(file, label, describe_validation_error(err))


def _record_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in RECORD_SUFFIXES)


def _load_into(loaded: Loaded, files: Iterable[Path], base: Path,
               model_for: Callable[[Any], type[BaseModel]]) -> None:
    for path in files:
        shown = str(path.relative_to(base)) if path.is_relative_to(base) else str(path)
        for position, raw in loaded.records(path, shown):
            loaded.raw_count += 1
            loaded.add(validate(model_for(raw), raw, shown, position))


def load_pack(folder: Path) -> Loaded:
    """Load ``folder/pack.yaml``, ``guides/`` and ``themes/``.

    Raises KnowledgeError when pack.yaml is missing or invalid: without it the pack has no name.
    """
    pack_file = folder / "pack.yaml"
    if not pack_file.is_file():
        raise KnowledgeError(f"{folder}: not a knowledge pack (no pack.yaml)")
    records = list(read_records(pack_file))
    if len(records) != 1:
        raise KnowledgeError(f"{pack_file}: expected one pack record, found {len(records)}")
    pack = validate(Pack, records[0][1], str(pack_file), 1)
    if isinstance(pack, Reject):
        raise KnowledgeError(f"{pack_file}: {pack.reason}")
    assert isinstance(pack, Pack)
    loaded = Loaded(origin=f"pack:{pack.name}", pack=pack)
    _load_into(loaded, _record_files(folder / "guides"), folder, lambda raw: ServiceGuide)
    _load_into(loaded, _record_files(folder / "themes"), folder, lambda raw: Theme)
    return loaded


def load_file(path: Path) -> Loaded:
    """Load a loose file of guides and themes (a record with ``items`` is a theme)."""
    loaded = Loaded(origin=f"file:{path.resolve()}")
    _load_into(loaded, [path], path.parent,
               lambda raw: Theme if isinstance(raw, dict) and "items" in raw else ServiceGuide)
    return loaded
