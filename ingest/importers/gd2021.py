"""The 2021 snapshot of 广东政务服务网 guides (Chinese keys), as described in knowledge-format.md."""

from __future__ import annotations

import re
from typing import Any

from ingest.importers.base import ExportMapping, MappingError

NO_COUNTER = "无线下办理窗口"
KNOWN_KEYS = frozenset({
    "id", "事项名称", "目录事项名称(主项)", "子项名称", "事项类型", "实施主体", "行政区划", "行使层级",
    "服务对象", "主题分类", "业务办理项编码", "到办事现场次数", "联办机构", "办理地点", "受理条件(首段)",
    "咨询电话", "投诉电话", "是否支持物流快递", "是否网办", "在线预约地址", "业务系统", "详情页URL",
    "法定办结时限", "承诺办结时限", "办理时间", "申请材料", "_source",
    # withheld from the shared copy, but part of the real export:
    "事项名称短语", "日常用语",
})
_TOP_LEVEL_COMMA = re.compile(r"、(?![^（(]*[）)])")


def _text(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MappingError(f"{key}: expected text, got {type(value).__name__} {value!r}")
    return value.strip() or None


def _texts(raw: dict[str, Any], key: str) -> list[str]:
    value = raw.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MappingError(f"{key}: expected a list of text, got {value!r}")
    return [v.strip() for v in value if v.strip()]


def _time_limit(raw: dict[str, Any], key: str) -> str | None:
    value = _text(raw, key)
    return re.sub(r"\s+(?=[(（])", "", value) if value else None


def _visits(raw: dict[str, Any]) -> int | None:
    value = _text(raw, "到办事现场次数")
    if value is None:
        return None
    if not value.isdigit():
        raise MappingError(f"到办事现场次数: expected a whole number, got {value!r}")
    return int(value)


def _provenance(raw: dict[str, Any]) -> str | None:
    source = raw.get("_source")
    if not isinstance(source, dict):
        return None
    return "; ".join(f"{k}={v}" for k, v in source.items() if v)


def _single_brackets(name: str | None) -> str | None:
    """"注册会计师注册(（外国人）)" as a citizen reads it: "注册会计师注册（外国人）" (46 names of the export)."""
    if name and "(（" in name and "）)" in name:
        return name.replace("(（", "（").replace("）)", "）")
    return name


def looks_like(raw: dict[str, Any]) -> bool:
    return "事项名称" in raw and "受理条件(首段)" in raw


def to_guide(raw: dict[str, Any]) -> dict[str, Any]:
    """Map one export record to ServiceGuide fields; raises MappingError naming the field."""
    unknown = sorted(set(raw) - KNOWN_KEYS)
    if unknown:
        raise MappingError(f"unknown export field(s): {', '.join(unknown)}")
    name = _single_brackets(_text(raw, "事项名称"))
    if not name:
        raise MappingError("事项名称: missing")
    region = _text(raw, "行政区划")
    address = _text(raw, "办理地点")
    hours = _text(raw, "办理时间")
    counter = address is not None and address != NO_COUNTER
    channels = (["窗口办理"] if counter else []) + (["网上办理"] if _text(raw, "是否网办") == "是" else [])
    parent = _single_brackets(_text(raw, "目录事项名称(主项)"))
    sub = _single_brackets(_text(raw, "子项名称"))
    extra = {
        "业务办理项编码": _text(raw, "业务办理项编码"),
        "子项名称": sub if sub and sub != name else None,
        "业务系统": _text(raw, "业务系统"),
        "受理条件说明": "导出数据仅收录受理条件首段，可能不完整" if _text(raw, "受理条件(首段)") else None,
        "办理地点说明": "无线下办理窗口，仅网上办理" if address == NO_COUNTER else None,
        "是否支持物流快递": "否" if _text(raw, "是否支持物流快递") in ("否", "不支持") else None,
        "数据来源": _provenance(raw),
        "采集年份": "2021",
    }
    return {
        "id": _text(raw, "id"),
        "name": name,
        "parent_name": parent if parent and parent != name else None,
        "kind": _text(raw, "事项类型"),
        "department": _text(raw, "实施主体"),
        "co_departments": [p.strip() for p in _TOP_LEVEL_COMMA.split(_text(raw, "联办机构") or "") if p.strip()],
        "region": region,
        "level": _text(raw, "行使层级"),
        "audience": _texts(raw, "服务对象"),
        "topics": _texts(raw, "主题分类"),
        "visits": _visits(raw),
        "locations": [{"address": address, "hours": hours, "region": region}] if counter else [],
        "eligibility": _text(raw, "受理条件(首段)"),
        "consult_phone": _text(raw, "咨询电话"),
        "complaint_phone": _text(raw, "投诉电话"),
        "delivery": ["邮寄"] if _text(raw, "是否支持物流快递") == "是" else [],
        "channels": channels,
        "online_url": _text(raw, "在线预约地址"),
        "time_limit_legal": _time_limit(raw, "法定办结时限"),
        "time_limit_promised": _time_limit(raw, "承诺办结时限"),
        "materials": [{"name": m} for m in _texts(raw, "申请材料")],
        "aliases": _texts(raw, "事项名称短语") + _texts(raw, "日常用语"),
        "source": {"title": f"广东政务服务网·{name}（2021年采集）", "url": _text(raw, "详情页URL")},
        "extra": {k: v for k, v in extra.items() if v},
    }


GD2021 = ExportMapping(
    name="gd2021",
    description="广东政务服务网 guides, 2021 snapshot (Chinese keys, one JSON object a line)",
    looks_like=looks_like,
    to_guide=to_guide,
    area="广东省",
    title="广东政务服务网办事指南（2021年采集）",
)
