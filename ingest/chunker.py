"""Field-aware chunks: one section of one guide or theme per chunk, each starting with its name.

A guide's name drowns in its boilerplate if the whole guide is one text, so the name and the
citizens' aliases get a chunk of their own, and every other field is cut on sentence boundaries
to at most ``MAX_CHARS`` characters (the embedder's cost grows with length).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Iterator

from knowledge.phrasing import describe_location, describe_material
from knowledge.records import Chunk
from knowledge.schema import ServiceGuide, Theme

MAX_CHARS = 200
CHUNKER_VERSION = "2"
_SENTENCE_END = re.compile(r"(?<=[。；！？;!?\n])")


def split_text(body: str, limit: int) -> list[str]:
    """Cut ``body`` into pieces of at most ``limit`` characters, at sentence ends where possible."""
    if limit < 20:
        raise ValueError(f"limit must be at least 20. Currently, limit is {limit}")
    pieces: list[str] = []
    current = ""
    for sentence in (s.strip() for s in _SENTENCE_END.split(body)):
        if not sentence:
            continue
        while len(sentence) > limit:  # one sentence longer than a chunk: cut at a comma if any
            cut = sentence.rfind("，", limit // 2, limit)
            cut = cut + 1 if cut > 0 else limit
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut])
            sentence = sentence[cut:]
        if len(current) + len(sentence) > limit:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return pieces


def _listed(parts: list[str]) -> str:
    """Parts joined with "；" and ended with "。", each without its own closing "。" or "；" (no "。；")."""
    return "；".join(p.rstrip("。；;. ") for p in parts) + "。"


def _numbered(items: list[str]) -> str:
    return _listed([f"{i}. {item}" for i, item in enumerate(items, start=1)])


def _fields(pairs: list[tuple[str, str | None]]) -> str:
    kept = [f"{label}：{value}" for label, value in pairs if value]
    return _listed(kept) if kept else ""


def _channels_text(record: ServiceGuide | Theme) -> str:
    visits = None
    if record.visits is not None:
        visits = "0次（全程网办）" if record.visits == 0 else f"{record.visits}次"
    return _fields([
        ("办理形式", "、".join(record.channels) or None),
        ("网办入口", record.online_url),
        ("到办事现场次数", visits),
    ])


def _how_and_where(record: ServiceGuide | Theme, materials_label: str) -> Iterator[tuple[str, str]]:
    if record.materials:
        yield "materials", f"{materials_label}：" + _numbered([describe_material(m) for m in record.materials])
    if record.steps:
        yield "steps", "办理流程：" + _numbered(record.steps)
    yield "locations", _channels_text(record)
    for location in record.locations:
        yield "locations", "办理地点：" + describe_location(location)


def _guide_sections(guide: ServiceGuide) -> Iterator[tuple[str, str]]:
    yield "name", guide.name
    if guide.aliases:
        yield "aliases", "常用说法：" + "、".join(guide.aliases) + "。"
    yield "overview", _fields([
        ("所属事项", guide.parent_name if guide.parent_name != guide.name else None),
        ("事项类型", guide.kind),
        ("实施主体", guide.department),
        ("联办机构", "、".join(guide.co_departments) or None),
        ("行政区划", f"{guide.region}（{guide.level}）" if guide.region and guide.level else guide.region),
        ("服务对象", "、".join(guide.audience) or None),
        ("主题分类", "、".join(guide.topics) or None),
        ("办理结果", guide.result),
    ])
    if guide.eligibility:
        yield "eligibility", "受理条件：" + guide.eligibility
    yield from _how_and_where(guide, "申请材料")
    yield "time_fee", _fields([
        ("法定办结时限", guide.time_limit_legal),
        ("承诺办结时限", guide.time_limit_promised),
        ("收费标准", guide.fee),
        ("结果送达", "、".join(guide.delivery) or None),
    ])
    yield "contact", _fields([("咨询电话", guide.consult_phone), ("监督投诉电话", guide.complaint_phone)])
    if guide.basis:
        yield "basis", "设定依据：" + _listed(guide.basis)
    for qa in guide.faq:
        yield "faq", f"问：{qa.q} 答：{qa.a}"


def _theme_sections(theme: Theme, item_name: Callable[[str], str]) -> Iterator[tuple[str, str]]:
    yield "name", theme.name
    if theme.aliases:
        yield "aliases", "常用说法：" + "、".join(theme.aliases) + "。"
    yield "overview", _fields([
        ("主题说明", theme.summary),
        ("牵头部门", theme.lead_department),
        ("服务对象", "、".join(theme.audience) or None),
    ])
    yield "items", "包含事项：" + _numbered([item_name(i) for i in theme.items])
    yield from _how_and_where(theme, "合并后的申请材料")
    yield "time_fee", _fields([("承诺办结时限", theme.time_limit_promised), ("收费标准", theme.fee)])
    if theme.consult_phone:
        yield "contact", f"咨询电话：{theme.consult_phone}。"
    if theme.outcomes:
        yield "outcomes", "改革成效：" + _listed(theme.outcomes)


def chunk_record(
    record: ServiceGuide | Theme,
    origin: str,
    item_name: Callable[[str], str] = lambda item_id: item_id,
) -> list[Chunk]:
    """All chunks of one record, in reading order. ``item_name`` names a theme's items."""
    is_theme = isinstance(record, Theme)
    sections = _theme_sections(record, item_name) if isinstance(record, Theme) else _guide_sections(record)
    prefix = f"【{record.name}】"
    limit = max(MAX_CHARS - len(prefix), 60)
    chunks: list[Chunk] = []
    positions: dict[str, int] = {}
    for section, body in sections:
        if not body:
            continue
        pieces = [body] if section == "name" else split_text(body, limit)
        for piece in pieces:
            position = positions.get(section, 0)
            positions[section] = position + 1
            text = piece if section == "name" else prefix + piece
            chunk = Chunk(
                id="",
                record_id=record.id,
                record_type="theme" if is_theme else "guide",
                section=section,
                position=position,
                text=text,
                name=record.name,
                region=record.region,
                level=None if is_theme else record.level,  # type: ignore[union-attr]
                kind="一件事" if is_theme else record.kind,  # type: ignore[union-attr]
                audience=tuple(record.audience),
                source_title=record.source.title if record.source else None,
                source_url=record.source.url if record.source else None,
                origin=origin,
            )
            chunks.append(_with_id(chunk))
    return chunks


def _with_id(chunk: Chunk) -> Chunk:
    payload = json.dumps([CHUNKER_VERSION, chunk.text, chunk.metadata()], ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha256(payload.encode()).hexdigest()[:32]
    return dataclasses.replace(chunk, id=digest)


def content_hash(record: ServiceGuide | Theme, origin: str, context: str = "") -> str:
    """Changes whenever the record, its origin, the chunker or ``context`` (a theme's item names) changes."""
    payload = f"{CHUNKER_VERSION}\n{origin}\n{context}\n{record.model_dump_json()}"
    return hashlib.sha256(payload.encode()).hexdigest()
