"""Normalise every text field of a record: 繁→简, full-width letters and digits, whitespace."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from knowledge.text import normalise_text

RecordT = TypeVar("RecordT", bound=BaseModel)
_VERBATIM = {"id", "url", "online_url", "items"}  # identifiers and links are kept as written


def _walk(value: Any, key: str = "") -> Any:
    if key in _VERBATIM:
        return value
    if isinstance(value, str):
        return normalise_text(value)
    if isinstance(value, list):
        return [_walk(v) for v in value]
    if isinstance(value, dict):
        return {k: _walk(v, k) for k, v in value.items()}
    return value


def normalise_record(record: RecordT) -> RecordT:
    """Return a normalised copy; raises pydantic.ValidationError if normalising empties a field."""
    return type(record).model_validate(_walk(record.model_dump()))
