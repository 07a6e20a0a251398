"""Grounded answers built from a guide's own fields with templates: nothing that is not in the guide.

Each block of an answer comes from one field and cites it. A field the guide does not state is said
to be unstated, with the consult phone; it is never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answer import Answer, Card, Citation
from assistant.intent import FACET_LABELS, FACET_ORDER, Facet, SmallTalk
from knowledge.phrasing import describe_location, describe_material
from knowledge.records import Chunk
from knowledge.schema import Hall, Location, ServiceGuide, Theme

HOTLINE = "12345"
HOTLINE_CHIP = "12345热线"  # the chip a refusal offers; sent back as a message, it is answered with the hotline
HANDOFF_CHIP = "转人工"
MAX_SPEECH = 120
Record = ServiceGuide | Theme

# The section of the index each facet's facts come from (what a citation points at).
FACET_SECTIONS: dict[Facet, str] = {
    "who": "eligibility", "where": "locations", "how": "steps", "materials": "materials",
    "time": "time_fee", "fee": "time_fee", "phone": "contact", "result": "overview",
}
OVERVIEW: tuple[Facet, ...] = ("who", "materials", "where", "time", "fee", "phone")
THEME_OVERVIEW: tuple[Facet, ...] = ("materials", "how", "where", "time", "fee", "result", "phone")


def _clip(text: str, limit: int) -> str:
    """At most ``limit`` characters; a longer text ends at its last full sentence or clause that leaves
    at least half of it ("…详情请看屏幕" is said by the screen), else is cut with "…"."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    end = max(head.rfind(mark) for mark in "。；！？")
    if end >= limit // 2:
        return head[: end + 1]
    end = head.rfind("，")
    return head[:end] + "…" if end >= limit // 2 else head + "…"


def unstated(label: str, record: Record) -> str:
    phone = record.consult_phone
    contact = f"可致电 {phone} 咨询" if phone else f"可拨打 {HOTLINE} 政务服务便民热线咨询"
    return f"指南未载明{label}，{contact}。"


def compose_progress(record: Record | None) -> Answer:
    """"办到哪一步了": the assistant answers from guides and cannot see anyone's application; who can."""
    if record is not None and record.consult_phone:
        where = f"请致电{record.name}的咨询电话 {record.consult_phone} 查询，也可以转人工服务。"
        citations = [citation(record, "name"), citation(record, "contact")]
    else:
        where = f"请拨打 {HOTLINE} 政务服务便民热线查询，也可以转人工服务。"
        citations = []
    text = f"我根据办事指南解答问题，无法查询个人的办件进度。{where}"
    return Answer(text=text, speech=_clip(text, MAX_SPEECH), decision="answer" if citations else "refuse",
                  citations=citations, suggestions=next_steps(hotline=not citations),
                  confidence=1.0 if citations else 0.0)


def next_steps(*, hotline: bool = True) -> list[str]:
    """The chips of a reply that cannot help: a person, and the 12345 hotline unless the citizen has called it."""
    return [HANDOFF_CHIP, *([HOTLINE_CHIP] if hotline else [])]


def citation(record: Record, section: str) -> Citation:
    title = record.source.title if record.source else record.name
    return Citation(guide_id=record.id, section=section, title=title,
                    url=record.source.url if record.source else None)


def card(record: Record) -> Card:
    where = "；".join(describe_location(loc).rstrip("。") for loc in record.locations[:2]) or None
    who = "、".join(record.audience) or None
    if isinstance(record, ServiceGuide) and record.eligibility:
        who = (who + "：" if who else "") + _clip(record.eligibility, 60)
    how = "、".join(record.channels) or None
    return Card(guide_id=record.id, name=record.name, who=who, where=where, how=how,
                materials=[describe_material(m) for m in record.materials])


def locations_for(record: Record, region: str | None) -> list[Location]:
    """The record's locations that serve ``region`` (all of them when no region is known)."""
    if not region:
        return list(record.locations)
    kept = [loc for loc in record.locations
            if not loc.region or loc.region.startswith(region) or region.startswith(loc.region)]
    return kept or list(record.locations)


def district_choices(record: Record) -> list[str]:
    """Districts whose halls differ for this record; empty when 在哪办 does not depend on the district."""
    regions = list(dict.fromkeys(loc.region for loc in record.locations if loc.region))
    if len(regions) < 2 or any(not loc.region for loc in record.locations):
        return []
    if any(all(r.startswith(parent) for r in regions) for parent in regions):
        return []  # a city-wide hall serves every district: no need to ask
    return regions


def _who(record: Record) -> list[str]:
    lines = []
    if record.audience:
        lines.append("服务对象：" + "、".join(record.audience) + "。")
    if isinstance(record, ServiceGuide):
        lines.append(f"受理条件：{record.eligibility}" if record.eligibility else unstated("受理条件", record))
    elif record.summary:
        lines.append(record.summary)
    return lines


def _materials(record: Record) -> list[str]:
    if not record.materials:
        return [unstated("申请材料", record)]
    head = "需要准备以下材料：" if isinstance(record, ServiceGuide) else "合并后的材料清单："
    return [head, *(f"{i}. {describe_material(m)}" for i, m in enumerate(record.materials, start=1))]


def _channels(record: Record) -> list[str]:
    lines = []
    if record.channels:
        lines.append("办理方式：" + "、".join(record.channels) + "。")
    if record.online_url:
        lines.append(f"网上办理入口：{record.online_url}")
    if record.visits is not None:
        lines.append("到现场次数：0次，可全程网上办理。" if record.visits == 0 else f"到现场次数：{record.visits}次。")
    return lines


def _how(record: Record) -> list[str]:
    lines = _channels(record)
    if record.steps:
        lines.append("办理流程：")
        lines += [f"{i}. {step}" for i, step in enumerate(record.steps, start=1)]
    else:
        lines.append(unstated("办理流程", record))
    return lines


def _where(record: Record, region: str | None, hall: Hall | None) -> list[str]:
    places = locations_for(record, region)
    lines = []
    if hall is not None:
        here = [loc for loc in places
                if (loc.name and hall.name in loc.name) or (hall.address and loc.address == hall.address)]
        if here:
            lines.append(f"本大厅即可办理：{here[0].window or hall.name}。")
    if places:
        lines.append("办理地点：")
        lines += [f"- {describe_location(loc)}" for loc in places]
    elif not record.online_url:
        lines.append(unstated("办理地点", record))
    extra = isinstance(record, ServiceGuide) and record.extra.get("办理地点说明")
    if extra:
        lines.append(f"{extra}。")
    return lines + _channels(record)


def _time(record: Record) -> list[str]:
    promised = record.time_limit_promised
    legal = record.time_limit_legal if isinstance(record, ServiceGuide) else None
    if not (promised or legal):
        return [unstated("办理时限", record)]
    parts = [f"承诺办结时限 {promised}" if promised else None, f"法定办结时限 {legal}" if legal else None]
    return ["；".join(p for p in parts if p) + "。"]


def _fee(record: Record) -> list[str]:
    return [f"收费标准：{_sentence(record.fee)}" if record.fee else unstated("收费标准", record)]


def _sentence(text: str) -> str:
    """The guide's words as a sentence: a full stop added when they end without one."""
    text = text.strip()
    return text if text.endswith(("。", "！", "？", "；", ".", "）", ")")) else text + "。"


def _phone(record: Record) -> list[str]:
    if not record.consult_phone:
        return [f"指南未载明咨询电话，可拨打 {HOTLINE} 政务服务便民热线。"]
    lines = [f"咨询电话：{record.consult_phone}。"]
    complaint = record.complaint_phone if isinstance(record, ServiceGuide) else None
    if complaint:
        lines.append(f"监督投诉电话：{complaint}。")
    return lines


def _result(record: Record) -> list[str]:
    if isinstance(record, Theme):
        return ["办理结果：" + "；".join(record.outcomes) + "。"] if record.outcomes else [unstated("办理结果", record)]
    lines = [f"办理结果：{_sentence(record.result)}" if record.result else unstated("办理结果", record)]
    if record.delivery:
        lines.append("结果送达：" + "、".join(record.delivery) + "。")
    return lines


def _items(theme: Theme, names: dict[str, str]) -> list[str]:
    lines = ["包含以下事项（按办理顺序）："]
    lines += [f"{i}. {names.get(item, item)}" for i, item in enumerate(theme.items, start=1)]
    return lines


_ACT_SUFFIX = re.compile(r"(?<=..)(办理|申领|申请)$")


def _spoken(name: str) -> str:
    """A name to say after 办理 or before …办理: "预防接种证办理" → 预防接种证, not "办理预防接种证办理"."""
    return _ACT_SUFFIX.sub("", name)


def _speech(record: Record, facets: Sequence[Facet], region: str | None) -> str:
    """Plain, short, speakable: no URLs, no markdown, under MAX_SPEECH characters."""
    facet = facets[0] if facets else None
    name = record.name
    if facet == "materials" and record.materials:
        first = "、".join(m.name for m in record.materials[:3])
        more = f"等{len(record.materials)}项材料" if len(record.materials) > 3 else ""
        text = f"办理{_spoken(name)}，需要准备{first}{more}，详情请看屏幕。"
    elif facet == "where" and locations_for(record, region):
        place = locations_for(record, region)[0]
        text = f"{_spoken(name)}可到{place.name or place.address}{place.window or ''}办理，详情请看屏幕。"
    elif facet == "time" and (record.time_limit_promised):
        text = f"{name}的承诺办结时限是{_spoken_duration(record.time_limit_promised)}。"
    elif facet == "fee" and record.fee:
        text = f"{name}的收费标准：{_sentence(record.fee)}"
    elif facet == "result" and isinstance(record, ServiceGuide) and record.delivery:
        text = f"{name}的结果送达方式：{'、'.join(record.delivery)}，详情请看屏幕。"
    elif facet == "phone" and record.consult_phone:
        text = f"{name}的咨询电话是{record.consult_phone}。"
    else:
        text = f"为您找到{name}的办事指南，详细内容请看屏幕。"
    return _clip(text.replace("(", "（").replace(")", "）"), MAX_SPEECH)


def _spoken_duration(value: str) -> str:
    """"7(工作日)" as one says it: "7个工作日"; "15(天)": "15天"; the rest of the value unchanged."""
    def spoken(match: re.Match[str]) -> str:
        number, unit = match.groups()
        return f"{number}天" if unit in ("天", "日") else f"{number}个{unit.removeprefix('个')}"

    return _DURATION.sub(spoken, value.strip())


_DURATION = re.compile(r"(\d+)\s*[(（]\s*(个?工作日|自然日|天|日)\s*[)）]")


def compose_answer(record: Record, facets: Sequence[Facet], *, region: str | None = None, hall: Hall | None = None,
                   item_names: dict[str, str] | None = None, related: Sequence[Chunk] = (),
                   confidence: float = 0.0, unsure: bool = False, only_related: bool = False,
                   notes: Sequence[str] = (), spoken_notes: Sequence[str] | None = None) -> Answer:
    """The answer to ``facets`` (an overview when empty) from one guide or theme.

    ``related`` are the guide's chunks that match the question best (a FAQ, a note); they are
    quoted as they are, under their own heading and citation; with ``only_related`` (and some
    related) they are the whole answer. ``unsure`` adds a line on what to do if this is not the
    service the citizen meant, and a 转人工 chip. ``notes`` follow the asked facets, in text and speech
    (what the guide does not say about the question: "指南未载明能否加急办理…"); ``spoken_notes``, when
    given, are said instead of them (the clause of a quoted passage that answers: "急需用证的可同时申请临时
    居民身份证").
    """
    quoted = [c for c in related if c.record_id == record.id]
    asked = [f for f in FACET_ORDER if f in facets] or list(THEME_OVERVIEW if isinstance(record, Theme) else OVERVIEW)
    if only_related and quoted and not facets:
        asked = []
    if asked == ["how"]:  # "怎么办" asks for the whole procedure: what to bring, then the steps
        asked = ["materials", "how"]
    blocks: list[str] = [f"关于**{record.name}**："]
    sections = ["name"]
    if isinstance(record, Theme) and asked:
        blocks += _items(record, item_names or {})
        sections.append("items")
    builders = {"who": _who, "materials": _materials, "how": _how, "time": _time, "fee": _fee,
                "phone": _phone, "result": _result}
    for facet in asked:
        lines = _where(record, region, hall) if facet == "where" else builders[facet](record)
        if len(asked) > 1 or not facets:
            blocks.append(f"**{FACET_LABELS[facet]}**")
        blocks += lines
        sections.append(FACET_SECTIONS[facet])
    blocks += notes
    said = list(notes if spoken_notes is None else spoken_notes)  # after the asked facets
    if quoted:
        blocks.append("**相关说明**")
        blocks += [_quote(c) for c in quoted]
        sections += [c.section for c in quoted]
    if isinstance(record, ServiceGuide) and record.extra.get("采集年份"):
        blocks.append(f"提示：本指南为{record.extra['采集年份']}年采集的数据，可能已有更新，请以官方最新发布为准。")
    if unsure:
        blocks.append(f"如果您要办的不是“{record.name}”，请换个说法再问，也可以转人工服务。")
    source = citation(record, "name")
    blocks.append("")
    blocks.append(f"来源：[{source.title}]({source.url})" if source.url else f"来源：{source.title}")
    unasked = [f for f in ("materials", "where", "time", "fee") if f not in asked]
    chips = {"materials": "要带什么材料", "where": "在哪里办", "time": "要多久", "fee": "收费吗"}
    return Answer(
        text=_markdown(blocks),
        speech=_clip(_spoken_duration("".join((_speech(record, facets, region), *said))), MAX_SPEECH)
        if asked else _spoken_passage(quoted[0]),
        decision="answer",
        cards=[card(record)],
        citations=[*(citation(record, s) for s in dict.fromkeys(sections)),
                   *(_item_citation(i, item_names or {}) for i in (record.items if isinstance(record, Theme) else []))],
        suggestions=[*[chips[f] for f in unasked][: 2 if unsure else 3], *(["转人工"] if unsure else [])],
        confidence=confidence,
    )


_LIST_ITEM = re.compile(r"^(- |\d+\. )")


def _markdown(lines: Sequence[str]) -> str:
    """Join lines; a blank line ends each list, or markdown would pull the next line into its last item."""
    out: list[str] = []
    for line in lines:
        if out and line and _LIST_ITEM.match(out[-1]) and not _LIST_ITEM.match(line):
            out.append("")
        out.append(line)
    return "\n".join(out)


def _spoken_passage(chunk: Chunk) -> str:
    """A quoted passage read aloud: of a question and its answer, the answer."""
    body = _quote(chunk)[2:]
    return _clip(_spoken_duration(body.split("答：", 1)[1] if "答：" in body else body), MAX_SPEECH)


def _quote(chunk: Chunk) -> str:
    prefix = f"【{chunk.name}】"
    body = chunk.text[len(prefix):] if chunk.text.startswith(prefix) else chunk.text
    return f"- {body}"


def _item_citation(item_id: str, names: dict[str, str]) -> Citation:
    return Citation(guide_id=item_id, section="name", title=names.get(item_id, item_id))


def compose_clarify(options: Sequence[Record], confidence: float = 0.0) -> Answer:
    """Ask which of several close guides is meant; the options are the suggestions."""
    labels = [_option_label(r, options) for r in options]
    numbered = [f"{i}. {label}" for i, label in enumerate(labels, 1)]
    text = "\n".join(["您想办理的是哪一项？请回复序号或名称：", *numbered])
    speech = _clip("请问您要办理的是：" + "，还是".join(labels) + "？", MAX_SPEECH)
    return Answer(text=text, speech=speech, decision="clarify", suggestions=labels,
                  citations=[citation(r, "name") for r in options], confidence=confidence)


def _option_label(record: Record, options: Sequence[Record]) -> str:
    same = [o for o in options if o.name == record.name]
    if len(same) > 1:  # the same item at two levels: tell them apart by region and department
        where = record.region or ""
        return f"{record.name}（{where}{'，' + record.department if record.department else ''}）" \
            if isinstance(record, ServiceGuide) else f"{record.name}（{where}）"
    return record.name


def compose_district_question(record: Record, districts: Sequence[str]) -> Answer:
    prefix = _common_prefix(districts)
    short = [d[len(prefix):] or d for d in districts]
    text = f"**{record.name}**按所在区办理，各区地点不同。请问您在哪个区？" + "、".join(short)
    speech = f"{_spoken(record.name)}按区办理，请问您在{'还是'.join(short)}？"
    return Answer(text=text, speech=_clip(speech, MAX_SPEECH),
                  decision="clarify", suggestions=short, citations=[citation(record, "locations")],
                  cards=[card(record)])


def _common_prefix(values: Sequence[str]) -> str:
    prefix = values[0] if values else ""
    for value in values[1:]:
        while not value.startswith(prefix):
            prefix = prefix[:-1]
    return prefix


def compose_topic_question(facets: Sequence[Facet]) -> Answer:
    """A question that names no service yet ("多少钱", "在哪办") and no guide under discussion: ask which."""
    asked = "、".join(_TOPIC_WORDS[f] for f in facets)
    text = f"请问您想了解哪项业务的{asked}？请告诉我要办的事项名称，我来为您查找。"
    return Answer(text=text, speech=f"请问您想了解哪项业务的{asked}？请说出事项名称。", decision="clarify")


_TOPIC_WORDS: dict[Facet, str] = {
    "who": "办理条件", "where": "办理地点", "how": "办理流程", "materials": "申请材料", "time": "办理时限",
    "fee": "收费标准", "phone": "咨询电话", "result": "办理结果",
}


_SMALL_TALK_REPLIES: dict[SmallTalk, str] = {
    "greeting": "您好！我是政务服务智能助手，可以根据办事指南回答谁能办、在哪办、如何办。请问您要办理什么业务？",
    "identity": ("我是政务服务智能助手，根据官方办事指南回答谁能办、在哪办、如何办，并注明出处；"
                 "需要时可以为您转人工服务。请问您要办理什么业务？"),
    "thanks": "不客气！还有其他问题，请随时问我。",
    "bye": "感谢您的咨询，再见！",
    "ack": "好的。还有其他问题，请随时问我。",
    "hotline": (f"{HOTLINE} 政务服务便民热线受理政务服务的咨询、求助、投诉和建议，请直接拨打 {HOTLINE}"
                "（外地号码请加拨当地区号）。您也可以在这里转人工服务。"),
    "personal": ("为保护您的个人信息，请不要在这里发送身份证号、手机号或银行卡号。我根据办事指南解答问题，"
                 "无法查询个人的办件情况。请问您要办理什么业务？"),
}


def note_elsewhere(answer: Answer, place: str, areas: list[str]) -> Answer:
    """The question names a place (北京市) outside the areas the knowledge covers: say so in one line, and show a
    guide only as a labelled reference."""
    area = "、".join(areas)
    line = f"您提到的{place}不在本知识库的范围内，这里收录的是{area}的办事指南。"
    if answer.decision == "answer":
        text = f"{line}\n\n以下为{area}的办事指南，仅供参考；请向当地政务服务部门咨询。\n\n{answer.text}"
        speech = f"{line}以下指南仅供参考，请向当地政务服务部门咨询。"
    else:
        text, speech = f"{line}\n\n{answer.text}", f"{line}{answer.speech}"
    return answer.model_copy(update={"text": text, "speech": _clip(speech, MAX_SPEECH)})


def compose_small_talk(kind: SmallTalk) -> Answer:
    """A greeting, thanks, goodbye or "你是谁": a short polite reply that cites nothing and changes nothing."""
    text = _SMALL_TALK_REPLIES[kind]
    return Answer(text=text, speech=_clip(text, MAX_SPEECH), decision="chat", confidence=1.0,
                  suggestions=[HANDOFF_CHIP] if kind == "hotline" else [])


def compose_refusal(named: str | None = None, *, hotline: bool = True) -> Answer:
    """No guide fits. ``named``: the thing the question names that no guide found speaks of ("药品经营许可证"),
    said back so the citizen knows it was understood and is simply not in the knowledge. ``hotline``: offer
    the 12345 hotline (not to a citizen who has already called it)."""
    call = f"拨打 {HOTLINE} 政务服务便民热线咨询，" if hotline else ""
    said = f"拨打{HOTLINE}，" if hotline else ""
    if named:
        text = f"抱歉，我这里暂未收录“{named}”的办事指南，无法为您解答。您可以{call}也可以转人工服务。"
        speech = f"抱歉，我这里暂未收录{named}的办事指南，您可以{said}或转人工服务。"
        return Answer(text=text, speech=speech, decision="refuse", suggestions=next_steps(hotline=hotline))
    text = ("抱歉，我没有找到与您的问题相符的办事指南。我可以回答政务服务事项谁能办、在哪办、如何办，"
            f"您可以换个说法再问，或{call}也可以转人工服务。")
    return Answer(text=text, speech="抱歉，我没有找到相关的办事指南，您可以换个说法，或转人工服务。",
                  decision="refuse", suggestions=next_steps(hotline=hotline))


_HANDOFF_LEADS = {"requested": "好的。", "complaint": "很抱歉给您带来不便。",
                  "repeated_failure": "抱歉，我没能理解您的问题。"}


def agent_label(name: str | None) -> str:
    """How citizens read an agent: "工作人员 李敏" with a display name (``BANSHI_STAFF_NAMES``), else "工作人员";
    never the login."""
    return f"工作人员 {name}" if name else "工作人员"


def handoff_reply(answer: Answer, status_line: str) -> Answer:
    """A handoff answer once the desk knows what became of the request (queued, or left with a ticket):
    one sentence of what happened instead of the general promise."""
    text = _HANDOFF_LEADS.get(answer.handoff_reason or "", "好的。") + status_line
    return answer.model_copy(update={"text": text, "speech": _clip(text, MAX_SPEECH)})


def compose_handoff(reason: str, *, hotline: bool = True) -> Answer:
    """The turn goes to a person. A complaint says that a person will deal with it; ``hotline`` mentions 12345
    as the fallback (not to a citizen who has already called it)."""
    if reason == "complaint":
        text = "很抱歉给您带来不便。您反映的情况需要工作人员处理，已为您转人工服务。"
    elif reason == "repeated_failure":
        text = "抱歉，我没能理解您的问题，为您转人工服务。"
    else:
        text = "好的，为您转人工服务。"
    text += f"如暂时无人接待，您也可以拨打 {HOTLINE} 政务服务便民热线。" if hotline else \
        "如暂时无人接待，将为您登记，工作人员会在本对话中回复您。"
    return Answer(text=text, speech=_clip(text, MAX_SPEECH), decision="handoff", handoff_reason=reason)
