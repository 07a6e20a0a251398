"""The shared half of every importer: read the export, map each record, validate, report."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.errors import KnowledgeError
from knowledge.loader import Loaded, Reject, read_records, validate
from knowledge.schema import Pack, ServiceGuide


class MappingError(ValueError):
    """One export record cannot be mapped; the message names the export field."""


@dataclass(frozen=True)
class ExportMapping:
    name: str
    description: str
    looks_like: Callable[[dict[str, Any]], bool]  # does a raw record come from this export?
    to_guide: Callable[[dict[str, Any]], dict[str, Any]]  # raises MappingError
    area: str | None = None  # the region the export covers (广东省): a question about another place is told so
    title: str | None = None  # what the chat says it answers from


def detect_mapping(path: Path, mappings: Iterable[ExportMapping]) -> ExportMapping | None:
    """The mapping whose ``looks_like`` accepts the file's first record, if any."""
    if path.suffix.lower() not in (".json", ".jsonl"):
        return None
    try:
        first = next(iter(read_records(path)), None)
    except KnowledgeError:
        return None
    if first is None or not isinstance(first[1], dict):
        return None
    return next((m for m in mappings if m.looks_like(first[1])), None)


def import_export(path: Path, mapping: ExportMapping) -> Loaded:
    """Map every record of an export; each one that fails becomes a Reject with its reason."""
    pack = Pack(name=mapping.name, title=mapping.title, region=mapping.area) \
        if mapping.area or mapping.title else None
    loaded = Loaded(origin=f"import:{mapping.name}:{path.name}", pack=pack)
    for position, raw in loaded.records(path, path.name):
        loaded.raw_count += 1
        label = f"#{position}" + (f" (id {raw['id']})" if isinstance(raw, dict) and raw.get("id") else "")
        if isinstance(raw, Exception) or not isinstance(raw, dict):
            loaded.rejects.append(Reject(path.name, label, str(raw) if isinstance(raw, Exception) else "not an object"))
            continue
        try:
            mapped = mapping.to_guide(raw)
        except MappingError as err:
            loaded.rejects.append(Reject(path.name, label, str(err)))
            continue
        loaded.add(validate(ServiceGuide, mapped, path.name, position))
    return loaded
