"""How a material or a location is written out, the same in chunks and in answers."""

from __future__ import annotations

from knowledge.schema import Location, Material, ServiceGuide


def describe_material(material: Material) -> str:
    details = [d for d in (material.form, f"{material.copies}份" if material.copies else None) if d]
    text = material.name + (f"（{'，'.join(details)}）" if details else "")
    if not material.required:
        text += "（非必需）"
    if material.exemptible:
        text += "（可免提交）"
    if material.note:
        text += f"：{material.note}"
    return text


def describe_location(location: Location) -> str:
    parts = [p for p in (location.name, location.address, location.window) if p]
    text = "，".join(parts)
    if location.hours:
        text += f"；办理时间：{location.hours}"
    if location.phone:
        text += f"；电话：{location.phone}"
    return text + "。"


NO_MAIL = "不支持物流快递"


def describe_delivery(guide: ServiceGuide) -> str | None:
    """How the result reaches the citizen ("窗口领取、邮寄"), or that it is not sent by post, as an export may say
    (its 是否支持物流快递 kept in ``extra``); None when the guide says neither."""
    if guide.delivery:
        return "、".join(guide.delivery)
    return NO_MAIL if guide.extra.get("是否支持物流快递") == "否" else None
