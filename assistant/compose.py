"""Grounded answers built from a guide's own fields with templates: nothing that is not in the guide.

A field the guide does not state is said to be unstated, with the consult phone; never guessed.
"""

from __future__ import annotations

from assistant.answer import Answer, Card, Citation
from knowledge.phrasing import describe_location, describe_material
from knowledge.schema import ServiceGuide, Theme

HOTLINE = "12345"
MAX_SPEECH = 120


def _unstated(label: str, record: ServiceGuide | Theme) -> str:
    phone = record.consult_phone
    contact = f"可致电 {phone} 咨询" if phone else f"可拨打 {HOTLINE} 政务服务便民热线咨询"
    return f"指南未载明{label}，{contact}。"


def citation(record: ServiceGuide | Theme, section: str) -> Citation:
    title = record.source.title if record.source else record.name
    return Citation(guide_id=record.id, section=section, title=title,
                    url=record.source.url if record.source else None)


def card(record: ServiceGuide | Theme) -> Card:
    where = "；".join(describe_location(loc).rstrip("。") for loc in record.locations[:2]) or None
    if isinstance(record, ServiceGuide):
        who = "、".join(record.audience) or None
        if record.eligibility:
            who = (who + "：" if who else "") + _clip(record.eligibility, 60)
    else:
        who = "、".join(record.audience) or None
    how = "、".join(record.channels) or None
    return Card(guide_id=record.id, name=record.name, who=who, where=where, how=how,
                materials=[describe_material(m) for m in record.materials])


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def compose_overview(record: ServiceGuide | Theme, confidence: float) -> Answer:
    """An overview of one guide or theme: who, materials, where, time limit, fee, phone, source."""
    lines = [f"**{record.name}**"]
    sections = ["name"]
    if isinstance(record, Theme):
        if record.summary:
            lines.append(record.summary)
    elif record.eligibility:
        lines.append(f"- 谁能办：{record.eligibility}")
        sections.append("eligibility")
    if record.materials:
        lines.append("- 申请材料：")
        lines += [f"  {i}. {describe_material(m)}" for i, m in enumerate(record.materials, start=1)]
        sections.append("materials")
    else:
        lines.append("- 申请材料：" + _unstated("申请材料", record))
    if record.locations:
        lines.append("- 办理地点：" + "；".join(describe_location(loc).rstrip("。") for loc in record.locations))
        sections.append("locations")
    if record.online_url:
        lines.append(f"- 网上办理：{record.online_url}")
    promised = record.time_limit_promised
    legal = record.time_limit_legal if isinstance(record, ServiceGuide) else None
    if promised or legal:
        lines.append("- 办理时限：" + "；".join(p for p in (f"承诺 {promised}" if promised else None,
                                                      f"法定 {legal}" if legal else None) if p))
    else:
        lines.append("- 办理时限：" + _unstated("办理时限", record))
    lines.append("- 收费标准：" + (record.fee or _unstated("收费标准", record)))
    if record.consult_phone:
        lines.append(f"- 咨询电话：{record.consult_phone}")
    sections += ["time_fee", "contact"]
    source = citation(record, "overview")
    lines.append("")
    lines.append(f"来源：[{source.title}]({source.url})" if source.url else f"来源：{source.title}")
    speech = f"为您找到“{record.name}”的办事指南，详细材料和地点请看屏幕。"
    return Answer(text="\n".join(lines), speech=_clip(speech, MAX_SPEECH), decision="answer",
                  cards=[card(record)], citations=[citation(record, s) for s in dict.fromkeys(sections)],
                  confidence=confidence)


def compose_refusal(suggestions: list[str]) -> Answer:
    text = ("抱歉，我没有找到与您的问题相符的办事指南。我可以回答政务服务事项的谁能办、在哪办、如何办，"
            f"您可以换个说法再问，或拨打 {HOTLINE} 政务服务便民热线，也可以转人工服务。")
    return Answer(text=text, speech="抱歉，我没有找到相关的办事指南，您可以换个说法，或转人工服务。",
                  decision="refuse", suggestions=suggestions)
