"""Grounded answers built from a guide's own fields with templates: nothing that is not in the guide.

Each block of an answer comes from one field and cites it. A field the guide does not state is said
to be unstated, with the consult phone; it is never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answer import Answer, Card, Citation
from assistant.intent import FACET_LABELS, FACET_ORDER, HOTLINE, Facet, SmallTalk
from assistant.lexicon import LEXICON
from knowledge.phrasing import describe_location, describe_material
from knowledge.records import Chunk
from knowledge.schema import Hall, Location, ServiceGuide, Theme

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
    if not lines[0].endswith("。"):
        lines[0] += "。"
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
        text = f"{name}的承诺办结时限是{spoken_duration(record.time_limit_promised)}。"
    elif facet == "fee" and record.fee:
        text = f"{name}的收费标准：{_sentence(record.fee)}"
    elif facet == "result" and isinstance(record, ServiceGuide) and record.delivery:
        text = f"{name}的结果送达方式：{'、'.join(record.delivery)}，详情请看屏幕。"
    elif facet == "phone" and record.consult_phone:
        text = f"{name}的咨询电话是{record.consult_phone}。"
    else:
        text = f"为您找到{name}的办事指南，详细内容请看屏幕。"
    return _clip(text.replace("(", "（").replace(")", "）"), MAX_SPEECH)


def spoken_duration(value: str) -> str:
    """"7(工作日)" as one says it: "7个工作日"; "15(天)": "15天"; the rest of the value unchanged."""
    def spoken(match: re.Match[str]) -> str:
        number, unit = match.groups()
        return f"{number}天" if unit in ("天", "日") else f"{number}个{unit.removeprefix('个')}"

    return _DURATION.sub(spoken, value.strip())


_DURATION = re.compile(r"(\d+)\s*[(（]\s*(个?工作日|自然日|天|日)\s*[)）]")


def compose_answer(record: Record, facets: Sequence[Facet], *, region: str | None = None, hall: Hall | None = None,
                   item_names: dict[str, str] | None = None, related: Sequence[Chunk] = (),
                   confidence: float = 0.0, unsure: bool = False, only_related: bool = False,
                   notes: Sequence[str] = (), spoken_notes: Sequence[str] | None = None,
                   question: str = "") -> Answer:
    """The answer to ``facets`` (an overview when empty) from one guide or theme.

    The text opens with the passage that answers (a FAQ's answer, the field asked for, "能网上办吗" from the
    channels), then a compact card of what the question needs; every field of the guide goes to
    ``Answer.guide``. ``related`` are the guide's chunks that match the question best (a FAQ, a note); with
    ``only_related`` (and some related) they are the whole answer. ``unsure`` adds a line on what to do if
    this is not the service the citizen meant, and a 转人工 chip. ``notes`` follow the asked facets, in text
    and speech (what the guide does not say about the question: "指南未载明能否加急办理…"); ``spoken_notes``,
    when given, are said instead of them (the clause of a quoted passage that answers: "急需用证的可同时申请临时
    居民身份证").
    """
    quoted = [c for c in related if c.record_id == record.id]
    asked = [f for f in FACET_ORDER if f in facets] or list(THEME_OVERVIEW if isinstance(record, Theme) else OVERVIEW)
    if only_related and quoted and not facets:
        asked = []
    if asked == ["how"]:  # "怎么办" asks for the whole procedure: what to bring, then the steps
        asked = ["materials", "how"]
    guide, sections = _full_guide(record, facets, asked, region, hall, item_names or {}, quoted, notes)
    lead, spoken, lead_from, led = _lead(record, facets, quoted, region, hall, question)
    lines = [f"**{record.name}**：{lead}"]
    if isinstance(record, Theme) and asked:
        lines += _compact_items(record, item_names or {})
    lines += _compact_card(record, facets, region, lead, led) if asked else []  # to the point: the passage alone
    lines += notes
    # Other passages stay in the text (they answer what the card does not); those of fields the card already
    # gives (a place, the materials) are in the full guide.
    carded = {"materials", "locations", "time_fee", "contact", "steps"} if not facets or "how" in facets else \
        {FACET_SECTIONS[f] for f in facets}
    rest = [_quote(c) for c in quoted if c.section not in carded
            and not (c is lead_from and len(_faq_answer([c]) or "") <= FAQ_LEAD)]
    if rest:
        lines += ["**相关说明**", *rest]
    if isinstance(record, ServiceGuide) and record.extra.get("采集年份"):
        lines.append(f"提示：本指南为{record.extra['采集年份']}年采集的数据，可能已有更新，请以官方最新发布为准。")
    if unsure:
        lines.append(f"如果您要办的不是“{record.name}”，请换个说法再问，也可以转人工服务。")
    source = citation(record, "name")
    lines.append("")
    lines.append(f"来源：[{source.title}]({source.url})" if source.url else f"来源：{source.title}")
    unasked = [f for f in ("materials", "where", "time", "fee") if f not in asked]
    chips = {"materials": "要带什么材料", "where": "在哪里办", "time": "要多久", "fee": "收费吗"}
    said = list(notes if spoken_notes is None else spoken_notes)
    # A field's answer is said with what it is about; a passage that answers ("不用。…") is said as it is.
    named = f"{_spoken(record.name)}，" if len(_spoken(record.name)) <= SPOKEN_NAME and lead_from is None else ""
    speech = _clip(_plain("".join((named, _clip(spoken, SPEECH_LEAD), *said))), MAX_SPEECH)
    sections += _compact_sections(record, facets)
    return Answer(
        text=_markdown(lines),
        guide=guide,
        speech=speech,
        decision="answer",
        cards=[card(record)],
        citations=[*(citation(record, s) for s in dict.fromkeys(sections)),
                   *(_item_citation(i, item_names or {}) for i in (record.items if isinstance(record, Theme) else []))],
        suggestions=[*[chips[f] for f in unasked][: 2 if unsure else 3], *(["转人工"] if unsure else [])],
        confidence=confidence,
    )


def _full_guide(record: Record, facets: Sequence[Facet], asked: Sequence[Facet], region: str | None,
                hall: Hall | None, item_names: dict[str, str], quoted: Sequence[Chunk],
                notes: Sequence[str]) -> tuple[str, list[str]]:
    """Every field asked for (all of them for an overview) with the quoted passages, as markdown; and the
    sections it cites."""
    blocks: list[str] = [f"关于**{record.name}**："]
    sections = ["name"]
    if isinstance(record, Theme) and asked:
        blocks += _items(record, item_names)
        sections.append("items")
    builders = {"who": _who, "materials": _materials, "how": _how, "time": _time, "fee": _fee,
                "phone": _phone, "result": _result}
    for facet in FACET_ORDER:  # every field, whatever was asked: this is the full guide
        lines = _where(record, region, hall) if facet == "where" else builders[facet](record)
        blocks.append(f"**{FACET_LABELS[facet]}**")
        blocks += lines
        if facet in asked:
            sections.append(FACET_SECTIONS[facet])
    blocks += notes
    if quoted:
        blocks.append("**相关说明**")
        blocks += [_quote(c) for c in quoted]
        sections += [c.section for c in quoted]
    return spoken_duration(_markdown(blocks)), sections


FAQ_LEAD = 150  # a FAQ's answer up to this long leads whole; a longer one leads with two sentences
SPOKEN_NAME = 10  # a service name this short is said before the answer
SPEECH_LEAD = 70  # the spoken answer: about 60 characters, a sentence or two
CARD_ITEMS = 5  # list items a compact card shows before "等N项，详见完整指南"
_YES_NO = re.compile(r"吗|能不能|可不可以|可以不|要不要|需不需要|是不是|是否|能否|用不用|行不行|[能可要用]不[？?]?$")
_ONLINE_QUESTION = re.compile(r"(网上|线上|在线|手机上?|掌上|app|小程序)(能|可以|可不可以|能不能|帮.{0,3})?"
                              r"(办|申请|弄|搞|提交|怎么|预约)|(网上|线上|手机上?)(能|可以|能不能|可不可以)[^查看]{1,4}[吗么]"
                              r"|网办|不用去|不去现场|跑一趟|跑几次|跑几趟", re.I)
# Questions that name no facet but ask for one in their own words ("哪些人可以申请", "要交什么", "上哪查").
_ONLINE_LOOKUP = re.compile(r"(网上|在线|线上).{0,4}(查|看|报名|预约|找)|上哪.{0,2}(查|看)|哪里能?(查|看)|哪.?查")
_OVERVIEW_CUES: tuple[tuple[Facet, re.Pattern[str]], ...] = (
    ("materials", re.compile(r"交什么|交回什么|哪些表|交哪些|要交啥")),
    ("who", re.compile(r"哪些人|什么人|哪些单位|什么单位|什么情况下|谁|还能|能.{0,8}吗|可以.{0,8}吗")),
)
_DELIVERY_QUESTION = LEXICON.pattern("delivery-question")
# A FAQ answers a yes/no question when it opens with the answer.
_YES_NO_ANSWER = LEXICON.pattern("yes-no-answers", before="^")
ONLINE_CHANNELS = LEXICON.words("online-channels")


def can_do_online(record: Record) -> bool | None:
    """True when the guide says the service can be done online (a channel 网上办理, or 0 visits); False when it
    names its channels or visits and online is not among them; None when it says neither."""
    if record.visits == 0 or any(c in ONLINE_CHANNELS for c in record.channels):
        return True
    return False if record.channels or record.visits is not None else None


def _online(record: Record) -> str:
    """Whether the service can be done online, as the guide says; the entry only when it can."""
    online = can_do_online(record)
    if online:
        system = isinstance(record, ServiceGuide) and record.extra.get("业务系统")
        where = f"（{system}）" if system else ""
        visits = f"可全程网上办理{where}，无需到现场" if record.visits == 0 else (
            f"可以网上办理{where}，需到现场{record.visits}次" if record.visits else f"可以网上办理{where}")
        return f"{visits}。" + (f"网上办理入口：{record.online_url}" if record.online_url else "")
    if online is False:
        visits = f"需到现场{record.visits}次" if record.visits else "需到现场办理"
        return f"不能网上办理，{visits}。"
    return unstated("能否网上办理", record)


def _faq_answer(quoted: Sequence[Chunk]) -> str | None:
    faq = _faq(quoted)
    return _quote(faq)[2:].split("答：", 1)[1].strip() if faq else None


def _faq(quoted: Sequence[Chunk]) -> Chunk | None:
    return next((c for c in quoted if c.section == "faq" and "答：" in c.text), None)


# The guide's own FAQ asks the citizen's question when this share of the character pairs of the two questions is
# shared (Dice): "生育津贴能领多少天" is answered by the FAQ that asks it, not by the time limit that 多少天 names.
FAQ_ASKED = 0.6


def _asks_the_faq(question: str, faq: Chunk | None) -> bool:
    if faq is None or not question:
        return False
    asked = faq.text.split("答：", 1)[0].split("】", 1)[-1]

    def pairs(text: str) -> set[str]:
        chars = [c for c in text if c.isalnum()]
        return {chars[i] + chars[i + 1] for i in range(len(chars) - 1)}

    ours, theirs = pairs(question), pairs(asked)
    return bool(ours and theirs) and 2 * len(ours & theirs) / (len(ours) + len(theirs)) >= FAQ_ASKED


def _sentences(text: str, n: int = 2) -> str:
    parts = [p for p in re.split(r"(?<=[。！？；])", text.strip()) if p]
    return "".join(parts[:n])


def asks_online(question: str, facets: Sequence[Facet]) -> bool:
    """"网上能签注吗", "手机上能办吗": answered by whether the guide can be done online, the same in every district.
    Not "我不会在网上弄，去哪个窗口办", which asks for a place."""
    return bool(_ONLINE_QUESTION.search(question)) and not _PLACE_QUESTION.search(question) and \
        ("where" in facets or bool(_YES_NO.search(question)))


_PLACE_QUESTION = LEXICON.pattern("place-question")


def _lead(record: Record, facets: Sequence[Facet], quoted: Sequence[Chunk], region: str | None,
          hall: Hall | None, question: str) -> tuple[str, str, Chunk | None, str | None]:
    """The sentence or two that answer, for the text and for the speech; the quoted passage they come from, or
    else the part of the card they give (which the card then leaves out)."""
    faq = _faq_answer(quoted)
    yes_no = bool(_YES_NO.search(question))
    if asks_online(question, facets):
        text = _online(record)
        return text.split("网上办理入口")[0], text.split("网上办理入口")[0], None, "online"
    first = next((f for f in ("time", "fee", "phone", "where", "materials", "who", "result", "how") if f in facets),
                 None)
    if not facets and not faq:  # no facet named: what the question's own words ask for
        if _ONLINE_LOOKUP.search(question) and can_do_online(record):
            text = _online(record)
            return text.split("网上办理入口")[0], text.split("网上办理入口")[0], None, "online"
        first = next((f for f, cue in _OVERVIEW_CUES if cue.search(question)), None)
    if faq and (not facets or (yes_no and _YES_NO_ANSWER.match(faq)) or set(facets) <= {"who", "how"} or
                _asks_the_faq(question, _faq(quoted))):
        answer = spoken_duration(faq)
        return (answer if len(answer) <= FAQ_LEAD else _sentences(answer)), _sentences(answer), _faq(quoted), None
    if first == "time":
        text = _time_lead(record)
    elif first == "fee":
        text = _fee(record)[0]
    elif first == "phone":
        text = _phone(record)[0]
    elif first == "where":
        text = _where_lead(record, region, hall)
    elif first == "materials":
        text = _materials_lead(record)
    elif first == "who":
        text = (f"受理条件：{_clip(record.eligibility, 200)}" if isinstance(record, ServiceGuide)
                and record.eligibility else _who(record)[-1])
    elif first == "result":
        result = _result(record)
        text = "".join(result[::-1] if _DELIVERY_QUESTION.search(question) else result)
    elif faq:
        answer = spoken_duration(faq)
        return (answer if len(answer) <= FAQ_LEAD else _sentences(answer)), _sentences(answer), _faq(quoted), None
    else:
        text = _overview_lead(record)
        first = "overview" if isinstance(record, ServiceGuide) else None
    return text, text, None, first


def _time_lead(record: Record) -> str:
    promised = record.time_limit_promised
    legal = record.time_limit_legal if isinstance(record, ServiceGuide) else None
    if not (promised or legal):
        return unstated("办理时限", record)
    if promised:
        text = f"{spoken_duration(promised)}（承诺办结时限）"
        return text + (f"；法定办结时限{spoken_duration(legal)}。" if legal else "。")
    return f"{spoken_duration(legal or '')}（法定办结时限）。"


def _short_place(loc: Location) -> str:
    address = (f"（{loc.address}）" if loc.name else loc.address) if loc.address else ""
    return "".join(p for p in (loc.name, address, loc.window or "") if p)


def _where_lead(record: Record, region: str | None, hall: Hall | None) -> str:
    places = locations_for(record, region)
    if hall is not None:
        here = [loc for loc in places
                if (loc.name and hall.name in loc.name) or (hall.address and loc.address == hall.address)]
        if here:
            return f"本大厅即可办理：{here[0].window or hall.name}。"
    if places:
        more = f"等{len(places)}处" if len(places) > 1 else ""
        return f"可到{_short_place(places[0])}{more}办理。"
    return _online(record) if can_do_online(record) else unstated("办理地点", record)


def _materials_lead(record: Record) -> str:
    if not record.materials:
        return unstated("申请材料", record)
    names = "、".join(m.name for m in record.materials[:3])
    return f"需要准备{names}等{len(record.materials)}项材料。" if len(record.materials) > 3 else f"需要准备{names}。"


def _overview_lead(record: Record) -> str:
    """A bare service name: whether it can be done online, how long it takes and what it costs."""
    if isinstance(record, Theme) and record.summary:
        return _sentences(record.summary, 1)
    parts = [_online(record).split("网上办理入口")[0]] if can_do_online(record) is not None else []
    if record.time_limit_promised:
        parts.append(f"承诺办结时限{spoken_duration(record.time_limit_promised)}。")
    if record.fee:
        parts.append(f"收费标准：{_sentence(_clip(record.fee, 60))}")
    return "".join(parts) or _materials_lead(record)


def _shortened(lines: list[str], total: int, unit: str, keep: int = CARD_ITEMS) -> list[str]:
    """The first ``keep`` lines of a list; a longer list says it goes on: "等6项，详见完整指南。"."""
    if total <= keep:
        return lines
    return [*lines[:keep], f"等{total}{unit}，详见完整指南。"]


def _compact_card(record: Record, facets: Sequence[Facet], region: str | None, lead: str,
                  led: str | None) -> list[str]:
    """What the question needs, a line each: a "how" question and an overview get materials, where, time limit,
    online and phone; a facet asked gets its field in full (a list still shortened). The rest of the guide is
    behind "查看完整指南"."""
    wanted: list[str] = [f for f in FACET_ORDER if f in facets]
    full = set(facets)
    if not facets or "how" in facets:
        wanted = list(dict.fromkeys([*wanted, *([] if facets else ["who"]), "materials", "where", "time", "fee",
                                     "online", "phone"]))
    if "where" in facets:
        wanted.append("online")
    lines: list[str] = []
    for part in dict.fromkeys(wanted):
        if part == led and part not in ("where", "materials", "online"):
            continue
        if led == "overview" and part in ("time", "fee"):
            continue  # said in the overview's lead
        if part == "materials" and record.materials:
            if "materials" in full:
                items = [f"{i}. {describe_material(m)}" for i, m in enumerate(record.materials, start=1)]
                lines += ["**申请材料**", *_shortened(items, len(items), "项", 10)]
            elif led != "materials":
                lines.append(f"**申请材料**：{_materials_line(record)}")
        elif part == "how" and record.steps:  # the procedure asked for: each step, in short
            steps = [f"{i}. {_clip(step, 40)}" for i, step in enumerate(record.steps, start=1)]
            lines += ["**办理流程**", *_shortened(steps, len(steps), "步")]
        elif part == "where":
            places = locations_for(record, region)
            if "where" in full:
                shown = [f"- {describe_location(loc)}" for loc in places]
                if places and (len(places) > 1 or part != led):
                    lines += ["**办理地点**", *_shortened(shown, len(shown), "处", 3)]
                extra = isinstance(record, ServiceGuide) and record.extra.get("办理地点说明")
                if extra:
                    lines.append(f"{extra}。")
            elif places and led != "where":
                more = f"等{len(places)}处" if len(places) > 1 else ""
                lines.append(f"**办理地点**：{_place_name(places[0])}{more}。")
        elif part == "who" and isinstance(record, ServiceGuide) and record.eligibility:
            limit = 100 if len(set(wanted)) > 3 else 200
            lines.append(f"**受理条件**：{_clip(record.eligibility, limit)}" +
                         ("（详见完整指南）" if len(record.eligibility) > limit else ""))
        elif part == "time":
            lines.append(f"**办理时限**：{_time_lead(record) if 'time' in full else _time_short(record)}")
        elif part == "fee":
            fee = _sentence(_clip(record.fee, CARD_FEE)) if record.fee else unstated("收费标准", record)
            lines.append(f"**收费标准**：{fee}")
        elif part == "online" and led in ("online", "overview"):
            if can_do_online(record) and record.online_url:
                lines.append(f"**网上办理入口**：{record.online_url}")
        elif part == "online" and _online(record).split("网上办理入口")[0] not in lead:
            lines.append(f"**网上办理**：{_online(record)}")
        elif part == "phone":
            lines.append(f"**咨询电话**：{record.consult_phone}。" if record.consult_phone else _phone(record)[0])
        elif part == "result":
            lines += _result(record)
    return lines


CARD_FEE = 100  # a fee a card shows in a line is cut here, the rest in the full guide


def _materials_line(record: Record) -> str:
    names = "、".join(m.name for m in record.materials[:3])
    return f"{names}等{len(record.materials)}项，详见完整指南。" if len(record.materials) > 3 else f"{names}。"


def _place_name(loc: Location) -> str:
    """A place as a card line names it: the hall and its window; the address when it has no name."""
    return "".join(p for p in (loc.name, loc.window) if p) if loc.name else _short_place(loc)


def _time_short(record: Record) -> str:
    """The time limit a citizen waits for: the promised one, else the legal one."""
    limit = record.time_limit_promised or (record.time_limit_legal if isinstance(record, ServiceGuide) else None)
    return f"{spoken_duration(limit)}。" if limit else unstated("办理时限", record)


def _compact_sections(record: Record, facets: Sequence[Facet]) -> list[str]:
    parts = [FACET_SECTIONS[f] for f in FACET_ORDER if f in facets]
    if not facets or "how" in facets:
        parts += ["materials", "locations", "time_fee", "steps", "contact"]
    return parts


def _plain(text: str) -> str:
    """Speakable: no markdown, no URLs, durations as they are said, brackets full-width."""
    text = re.sub(r"https?://\S+", "", text.replace("**", ""))
    return spoken_duration(text).replace("(", "（").replace(")", "）")


def _compact_items(theme: Theme, names: dict[str, str]) -> list[str]:
    items = [f"{i}. {names.get(item, item)}" for i, item in enumerate(theme.items, start=1)]
    return ["**包含事项（按办理顺序）**", *items]


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
    return _clip(spoken_duration(body.split("答：", 1)[1] if "答：" in body else body), MAX_SPEECH)


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
    speech = _clip(_spoken_options([r.name for r in options[:3]]), MAX_SPEECH)  # the rest are on screen
    return Answer(text=text, speech=speech, decision="clarify", suggestions=labels,
                  citations=[citation(r, "name") for r in options], confidence=confidence)


_SPOKEN_BRACKETS = re.compile(r"[(（][^()（）]*(?:[(（][^()（）]*[)）][^()（）]*)*[)）]")


def _spoken_options(names: Sequence[str]) -> str:
    """A clarifying question as said aloud: what the options share once, then what tells them apart, without
    the brackets no one reads out ("律师执业变更审核", "律师执业注销" → "…律师执业的哪一项：变更审核，还是注销？")."""
    said = [_spoken(_SPOKEN_BRACKETS.sub("", name)) or _spoken(name) for name in names]
    main = None
    if len(set(said)) < len(said):  # the brackets were what told them apart: their words, without the brackets
        said = [_spoken(re.sub(r"[()（）]", "", name)) for name in names]
        main = min(len(re.split(r"[(（]", name, maxsplit=1)[0]) for name in names)  # what they share ends there
    prefix = _common_prefix(said)[:main] if len(said) > 1 else ""
    if len(prefix) >= 4 and all(len(s) - len(prefix) >= 2 for s in said):
        return f"请问您要办的是{prefix}的哪一项：" + "，还是".join(s[len(prefix):] for s in said) + "？"
    return "请问您要办理的是：" + "，还是".join(said) + "？"


def compose_region_question(options: Sequence[Record], confidence: float = 0.0) -> Answer:
    """One item that several regions each issue (``options``, one guide a region): ask where, naming the regions,
    not which of several guides of the same name."""
    regions = sorted({r.region for r in options if isinstance(r, ServiceGuide) and r.region}, key=lambda r: (len(r), r))
    prefix = _common_prefix(regions) if len(regions) > 1 else ""
    short = [region[len(prefix):] or region for region in regions]
    shown = short[:MAX_REGIONS_SHOWN]
    more = f"等{len(short)}地" if len(short) > len(shown) else ""
    name = options[0].name
    text = f"**{name}**由各地分别办理，办理地点和电话各不相同。请问您在哪里办理？{'、'.join(shown)}{more}"
    speech = f"{_spoken(name)}各地分别办理，请问您在哪里办？比如{'、'.join(short[:3])}。"
    return Answer(text=text, speech=_clip(speech, MAX_SPEECH), decision="clarify", suggestions=shown,
                  citations=[citation(options[0], "name")], confidence=confidence)


MAX_REGIONS_SHOWN = 8  # regions named when asking where an item is to be done; the rest are "等N地"


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
    return answer.model_copy(update={"text": text, "speech": _clip(speech, MAX_SPEECH),
                                     "reference_only": answer.decision == "answer"})


def note_story_unsure(answer: Answer, phone: str | None) -> Answer:
    """A long message that tells a situation, answered from a guide found with modest confidence: the guide is
    shown as the nearest one, for reference, with whom to ask whether it fits (not as the citizen's answer)."""
    ask = f"请致电 {phone} 或转人工服务确认" if phone else f"请拨打 {HOTLINE} 或转人工服务确认"
    line = f"以下指南与您的情况不一定相符，仅供参考；是否适用，{ask}。"
    suggestions = [*[s for s in answer.suggestions if s != HANDOFF_CHIP][:2], HANDOFF_CHIP]
    return answer.model_copy(update={"text": f"{line}\n\n{answer.text}",
                                     "speech": _clip(f"以下指南仅供参考。{answer.speech}", MAX_SPEECH),
                                     "reference_only": True, "suggestions": suggestions})


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
