"""Records that stages hand each other: chunks of guides, and hits from retrieval."""

from __future__ import annotations

from dataclasses import dataclass

# Sections of a guide or theme, in the order a clerk would read them, with citizen-facing labels.
SECTIONS: dict[str, str] = {
    "name": "事项名称",
    "aliases": "常用说法",
    "overview": "事项概况",
    "eligibility": "受理条件",
    "materials": "申请材料",
    "steps": "办理流程",
    "locations": "办理地点",
    "time_fee": "时限与收费",
    "contact": "咨询投诉",
    "basis": "设定依据",
    "faq": "常见问答",
    "items": "包含事项",
    "outcomes": "改革成效",
}


@dataclass(frozen=True, slots=True)  # slots: a search holds one per chunk, 134,000 at 20,000 guides
class Chunk:
    """One field-aware piece of a guide or theme; its text starts with the record's name."""

    id: str  # hash of content and provenance
    record_id: str  # guide or theme id: the citation anchor
    record_type: str  # "guide" or "theme"
    section: str  # a key of SECTIONS
    position: int  # order within the section
    text: str
    name: str
    region: str | None
    level: str | None
    kind: str | None
    audience: tuple[str, ...]
    source_title: str | None
    source_url: str | None
    origin: str  # the pack or file it was ingested from

    def metadata(self) -> dict[str, str | int | list[str]]:
        """Flat metadata for the vector store (no None values, lists only when non-empty)."""
        meta: dict[str, str | int | list[str]] = {
            "record_id": self.record_id,
            "record_type": self.record_type,
            "section": self.section,
            "position": self.position,
            "name": self.name,
            "origin": self.origin,
        }
        for key in ("region", "level", "kind", "source_title", "source_url"):
            value = getattr(self, key)
            if value:
                meta[key] = value
        if self.audience:
            meta["audience"] = list(self.audience)
        return meta

    @classmethod
    def from_metadata(cls, chunk_id: str, text: str, meta: dict, *,  # type: ignore[type-arg]
                      shared: dict[object, object] | None = None) -> Chunk:
        """The chunk stored as ``meta``. With ``shared`` (one dict for a whole load), equal values of the fields
        that repeat across chunks (a guide's name, region and link in each of its chunks) are one object."""
        def one(value):  # type: ignore[no-untyped-def]
            return value if shared is None or value is None else shared.setdefault(value, value)

        return cls(
            id=chunk_id,
            record_id=one(str(meta["record_id"])),
            record_type=one(str(meta["record_type"])),
            section=one(str(meta["section"])),
            position=int(meta["position"]),
            text=text,
            name=one(str(meta["name"])),
            region=one(meta.get("region")),
            level=one(meta.get("level")),
            kind=one(meta.get("kind")),
            audience=one(tuple(meta.get("audience") or ())),
            source_title=one(meta.get("source_title")),
            source_url=one(meta.get("source_url")),
            origin=one(str(meta["origin"])),
        )
