"""A guide's fields as sentences and lines, each from one field and citing it; a field the guide does not state is
said to be unstated, with the consult phone. Shared by the answer composer and the other replies."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answer import Card, Citation
from assistant.intent import HOTLINE, Facet
from assistant.lexicon import LEXICON
from knowledge.phrasing import describe_delivery, describe_location, describe_material
from knowledge.records import SECTIONS, Chunk
from knowledge.schema import Hall, Location, ServiceGuide, Theme

MAX_SPEECH = 120


Record = ServiceGuide | Theme


# The section of the index each facet's facts come from (what a citation points at).
FACET_SECTIONS: dict[Facet, str] = {
    "who": "eligibility", "where": "locations", "how": "steps", "materials": "materials",
    "time": "time_fee", "fee": "time_fee", "phone": "contact", "result": "overview",
}


OVERVIEW: tuple[Facet, ...] = ("who", "materials", "where", "time", "fee", "phone")


THEME_OVERVIEW: tuple[Facet, ...] = ("materials", "how", "where", "time", "fee", "result", "phone")


def item_key(name: str) -> str:
    """A guide's name as one item, whoever publishes it: "律师执业变更审核(（执业类别变更）)" and
    "律师执业变更审核(执业类别变更)" are one item with its brackets written two ways."""
    return _BRACKETS.sub("", name)


_BRACKETS = re.compile(r"[()（）《》〈〉\[\]【】\s]")


def clip(text: str, limit: int) -> str:
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


UNSTATED = "指南未载明"


def unstated(label: str, record: Record) -> str:
    return f"{UNSTATED}{label}，{contact(record)}。"


def contact(record: Record) -> str:
    """Whom to ask what the guide does not say: its consult phone, else the 12345 hotline."""
    phone = record.consult_phone
    return f"可致电 {phone} 咨询" if phone else f"可拨打 {HOTLINE} 政务服务便民热线咨询"


def citation(record: Record, section: str) -> Citation:
    title = record.source.title if record.source else record.name
    return Citation(guide_id=record.id, section=section, title=title,
                    url=record.source.url if record.source else None)


def card(record: Record) -> Card:
    where = "；".join(describe_location(loc).rstrip("。") for loc in record.locations[:2]) or None
    who = "、".join(record.audience) or None
    if isinstance(record, ServiceGuide) and record.eligibility:
        who = (who + "：" if who else "") + clip(record.eligibility, 60)
    how = "、".join(record.channels) or None
    return Card(guide_id=record.id, name=record.name, who=who, where=where, how=how,
                materials=[describe_material(m) for m in record.materials])


def locations_for(record: Record, region: str | None, question: str = "") -> list[Location]:
    """The record's locations that serve ``region`` (all of them when no region is known), those the question
    names first ("住松岭镇，去哪办": the town's service centre before the city's hall)."""
    places = list(record.locations)
    if region:
        places = [loc for loc in places
                  if not loc.region or loc.region.startswith(region) or region.startswith(loc.region)] or places
    return named_first(places, question, _about(record))


PLACE_WORD = 3  # the shortest run of a question's characters taken as naming a place ("松岭镇")


def _about(record: Record) -> str:
    """The service's own words (name, aliases, department), which name no place of it."""
    return " ".join([record.name, *record.aliases, getattr(record, "department", None) or ""])


def _naming(places: list[Location], question: str, about: str, skip: str = "") -> list[int]:
    """For each place, the longest run of the question's characters (PLACE_WORD or more, no punctuation) in its
    name, address or window, and not in every place, nor in ``about`` or ``skip``; 0 when the question does not
    name it."""
    texts = ["".join(p for p in (loc.name, loc.address, loc.window) if p) for loc in places]

    def named(text: str) -> int:
        longest = 0
        for start in range(len(question)):
            end = start + max(PLACE_WORD, longest + 1)
            while end <= len(question) and question[start:end].isalnum() and question[start:end] in text:
                run = question[start:end]
                if run not in about and run not in skip and not all(run in other for other in texts):
                    longest = end - start
                end += 1
        return longest

    return [named(text) for text in texts]


def named_first(places: list[Location], question: str, about: str = "") -> list[Location]:
    """``places`` with those the question names first, the longest naming first; the order kept otherwise. A
    run of characters found in every place ("示例市"), or in ``about`` (the service's own name, aliases and
    department: "结婚登记" of a "结婚登记窗口"), names none of them."""
    if len(places) < 2 or not question:
        return places
    scores = _naming(places, question, about)
    if max(scores) == 0:
        return places
    return [places[i] for i in sorted(range(len(places)), key=lambda i: -scores[i])]


def place_named(record: Record, region: str | None, question: str) -> Location | None:
    """The place of the guide the question names as a place, not only a district ("住松岭镇，在镇上能办吗"; not
    "住青山区，能办吗" nor "从明湖区搬到青山区": the districts the guide's places serve name no place)."""
    places = list(record.locations)
    if len(places) < 2 or not question:
        return None
    districts = " ".join([region or "", *(loc.region for loc in places if loc.region)])
    scores = _naming(places, question, _about(record), skip=districts)
    best = max(range(len(places)), key=lambda i: scores[i])
    return places[best] if scores[best] else None


def district_choices(record: Record) -> list[str]:
    """Districts whose halls differ for this record; empty when 在哪办 does not depend on the district."""
    regions = list(dict.fromkeys(loc.region for loc in record.locations if loc.region))
    if len(regions) < 2 or any(not loc.region for loc in record.locations):
        return []
    if any(all(r.startswith(parent) for r in regions) for parent in regions):
        return []  # a city-wide hall serves every district: no need to ask
    return regions


def conditions(guide: ServiceGuide, limit: int | None = None) -> str:
    """The guide's 受理条件 as shown: past ``limit``, cut at a sentence and marked "（详见完整指南）". One the guide
    breaks off where its list would start ("…可以向省级注册会计师协会申请注册：", an export that keeps only its
    first paragraph) says that the rest is not listed, and whom to ask."""
    text = (guide.eligibility or "").rstrip()
    if names_only_a_law(guide):  # "《法律职业资格证书管理办法》": a title, which says nothing of who may apply
        return f"具体条件指南未列出（依据{text.rstrip('。')}），{contact(guide)}。"
    if limit is not None and len(text) > limit:
        return clip(text, limit) + "（详见完整指南）"
    if text.endswith(("：", ":", "；", ";")):
        rest = "具体条件" if text.endswith(("：", ":")) else "其余条件"
        return f"{text}（{rest}指南未列出，{contact(guide)}）"
    return text


def names_only_a_law(guide: ServiceGuide) -> bool:
    """Are the guide's 受理条件 nothing but the titles of laws ("《法律职业资格证书管理办法》")?"""
    text = guide.eligibility or ""
    return "《" in text and not re.sub(r"《[^》]*》|[\s。，、；;,.：:及和与]", "", text)


def who_lines(record: Record) -> list[str]:
    lines = []
    if record.audience:
        lines.append("服务对象：" + "、".join(record.audience) + "。")
    if isinstance(record, ServiceGuide):
        lines.append(f"受理条件：{conditions(record)}" if record.eligibility else unstated("受理条件", record))
    elif record.summary:
        lines.append(record.summary)
    return lines


def materials_lines(record: Record) -> list[str]:
    if not record.materials:
        return [unstated("申请材料", record)]
    head = "需要准备以下材料：" if isinstance(record, ServiceGuide) else "合并后的材料清单："
    return [head, *(f"{i}. {describe_material(m)}" for i, m in enumerate(record.materials, start=1))]


def channel_lines(record: Record) -> list[str]:
    lines = []
    if record.channels:
        lines.append("办理方式：" + "、".join(record.channels) + "。")
    if record.online_url:
        lines.append(entry_link(record.online_url, entry_title(record)))
    if record.visits is not None:
        act = "预约" if books(record) else "办理"
        lines.append(f"到现场次数：0次，可全程网上{act}。" if record.visits == 0 else
                     f"到现场次数：{record.visits}次。")
    return lines


def how_lines(record: Record) -> list[str]:
    lines = channel_lines(record)
    if record.steps:
        lines.append("办理流程：")
        lines += [f"{i}. {step}" for i, step in enumerate(record.steps, start=1)]
    else:
        lines.append(unstated("办理流程", record))
    return lines


def where_lines(record: Record, region: str | None, hall: Hall | None, question: str = "") -> list[str]:
    places = locations_for(record, region, question)
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
    note = place_note(record)
    if note:
        lines.append(note)
    return lines + channel_lines(record)


ONLY_ONLINE = "仅网上办理"


def place_note(record: Record) -> str | None:
    """What the guide says of its place beyond the addresses ("无线下办理窗口，仅网上办理。"); of a guide for booking,
    that only the booking is online."""
    note = isinstance(record, ServiceGuide) and record.extra.get("办理地点说明")
    if not note:
        return None
    if books(record) and note.endswith(ONLY_ONLINE):
        note = note[:-len(ONLY_ONLINE)] + "仅网上预约"
    return f"{note}。"


def time_lines(record: Record) -> list[str]:
    promised = record.time_limit_promised
    legal = record.time_limit_legal if isinstance(record, ServiceGuide) else None
    if not (promised or legal):
        return [unstated("办理时限", record)]
    parts = [f"承诺办结时限 {promised}" if promised else None, f"法定办结时限 {legal}" if legal else None]
    return ["；".join(p for p in parts if p) + "。"]


def fee_lines(record: Record) -> list[str]:
    return [f"收费标准：{sentence(record.fee)}" if record.fee else unstated("收费标准", record)]


def sentence(text: str) -> str:
    """The guide's words as a sentence: a full stop added when they end without one. A closing bracket ends one
    only after a full stop ("…。（详见完整指南）"); "不收费（首次办理和补办均免费）" gets its own."""
    text = text.strip()
    if text.endswith(("）", ")")):
        opening = max(text.rfind("（"), text.rfind("("))
        return text if opening > 0 and text[opening - 1] in "。！？；." else text + "。"
    return text if text.endswith(("。", "！", "？", "；", ".")) else text + "。"


def phone_lines(record: Record) -> list[str]:
    if not record.consult_phone:
        return [f"指南未载明咨询电话，可拨打 {HOTLINE} 政务服务便民热线。"]
    lines = [f"咨询电话：{record.consult_phone}。"]
    complaint = record.complaint_phone if isinstance(record, ServiceGuide) else None
    if complaint:
        lines.append(f"监督投诉电话：{complaint}。")
    return lines


def result_lines(record: Record) -> list[str]:
    if isinstance(record, Theme):
        return ["办理结果：" + "；".join(record.outcomes) + "。"] if record.outcomes else [unstated("办理结果", record)]
    lines = [f"办理结果：{sentence(record.result)}" if record.result else unstated("办理结果", record)]
    if not lines[0].endswith("。"):
        lines[0] += "。"
    delivery = describe_delivery(record)
    if delivery:
        lines.append(f"结果送达：{delivery}。")
    return lines


def item_lines(theme: Theme, names: dict[str, str]) -> list[str]:
    lines = ["包含以下事项（按办理顺序）："]
    lines += [f"{i}. {names.get(item, item)}" for i, item in enumerate(theme.items, start=1)]
    return lines


_ACT_SUFFIX = LEXICON.pattern("name-act-suffixes", before="(?<=..)", after="$")


def spoken_name(name: str) -> str:
    """A name to say after 办理 or before …办理: "预防接种证办理" → 预防接种证, not "办理预防接种证办理"."""
    return _ACT_SUFFIX.sub("", name)


def spoken_duration(value: str) -> str:
    """"7(工作日)" as one says it: "7个工作日"; "15(天)": "15天"; the rest of the value unchanged."""
    def spoken(match: re.Match[str]) -> str:
        number, unit = match.groups()
        return f"{number}天" if unit in ("天", "日") else f"{number}个{unit.removeprefix('个')}"

    return _DURATION.sub(spoken, value.strip())


_DURATION = re.compile(r"(\d+)\s*[(（]\s*(个?工作日|自然日|天|日)\s*[)）]")


ONLINE_CHANNELS = LEXICON.words("online-channels")


def can_do_online(record: Record) -> bool | None:
    """True when the guide says the service can be done online (a channel 网上办理, or 0 visits); False when it
    names its channels or visits and online is not among them; None when it says neither."""
    if record.visits == 0 or any(c in ONLINE_CHANNELS for c in record.channels):
        return True
    return False if record.channels or record.visits is not None else None


ENTRY = "网上办理入口"
BOOKING_ENTRY = "网上预约入口"  # the entry of a guide for booking (补领结婚证预约)
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)\s]*\)")


def entry_title(record: Record) -> str:
    return BOOKING_ENTRY if books(record) else ENTRY


def entry_link(url: str, title: str = ENTRY) -> str:
    """The online entry as a link titled 网上办理入口 (网上预约入口 of a guide for booking), not a long address to
    read (as it is when it would not make a link: a space or a bracket in it)."""
    return f"{title}：{url}" if re.search(r"[\s()\[\]]", url) else f"[{title}]({url})"


_APPOINTMENT = LEXICON.regex("appointment-names")


def books(record: Record) -> bool:
    """Is the guide one for making an appointment (补领结婚证预约), by its name without what is in brackets?"""
    return _APPOINTMENT.search(without_brackets(record.name)) is not None


_INNERMOST_BRACKETS = re.compile(r"[(（][^()（）]*[)）]")


def without_brackets(name: str) -> str:
    """The name without its bracketed parts, nested ones too ("…审核(（市内转所（执业机构变更））)" → "…审核")."""
    while (shorter := _INNERMOST_BRACKETS.sub("", name)) != name:
        name = shorter
    return name


def online_said(record: Record) -> str:
    """Whether the service can be done online, as the guide says, without the entry. Of a guide for making an
    appointment ("补领结婚证预约"), that the appointment can: the service it books is done where it is booked."""
    online = can_do_online(record)
    if online:
        system = isinstance(record, ServiceGuide) and record.extra.get("业务系统")
        where = f"（{system}）" if system else ""
        if books(record):
            return f"可全程网上预约{where}，预约无需到现场。" if record.visits == 0 else (
                f"可以网上预约{where}，需到现场{record.visits}次。" if record.visits else f"可以网上预约{where}。")
        visits = f"可全程网上办理{where}，无需到现场" if record.visits == 0 else (
            f"可以网上办理{where}，需到现场{record.visits}次" if record.visits else f"可以网上办理{where}")
        return f"{visits}。"
    if online is False:
        visits = f"需到现场{record.visits}次" if record.visits else "需到现场办理"
        return f"不能网上办理，{visits}。"
    return unstated("能否网上办理", record)


def online_text(record: Record) -> str:
    """:func:`online_said`, and the entry when it can be done online."""
    entry = entry_link(record.online_url, entry_title(record)) if can_do_online(record) and record.online_url else ""
    return online_said(record) + entry


def split_sentences(text: str) -> list[str]:
    """The sentences of a text, each with its closing mark (。！？ or ；); a mark inside brackets ends none
    ("不收费（原户名下欠缴的燃气费须结清；过户安全检查不收费）" is one)."""
    parts, depth, start = [], 0, 0
    text = text.strip()
    for i, char in enumerate(text):
        depth = max(0, depth + (char in "（(") - (char in "）)"))
        if char in "。！？；" and depth == 0:
            parts.append(text[start:i + 1])
            start = i + 1
    if depth:  # a bracket never closed: the marks end sentences wherever they are
        return [p for p in re.split(r"(?<=[。！？；])", text) if p]
    parts.append(text[start:])
    return [p for p in parts if p]


def sentences(text: str, n: int = 2) -> str:
    return "".join(split_sentences(text)[:n])


def short_place(loc: Location) -> str:
    """A place by name, its address in brackets and its window; after a name that ends in a bracket of its own
    ("示例市婚姻登记处（示例市政务服务中心内）") the address and window follow after commas, not in a second bracket."""
    if loc.name and loc.address and loc.name.endswith(("）", ")")):
        return "，".join(p for p in (loc.name, loc.address, loc.window or "") if p)
    address = (f"（{loc.address}）" if loc.name else loc.address) if loc.address else ""
    return "".join(p for p in (loc.name, address, loc.window or "") if p)


def plain(text: str) -> str:
    """Speakable: no markdown, no URLs, durations as they are said, brackets full-width. A link is said as its
    title, and the online entry's link not at all (the screen shows it)."""
    text = _MARKDOWN_LINK.sub(lambda m: "" if m.group(1) in (ENTRY, BOOKING_ENTRY) else m.group(1), text)
    text = re.sub(r"https?://\S+", "", text.replace("**", ""))
    return spoken_duration(text).replace("(", "（").replace(")", "）")


_LIST_ITEM = re.compile(r"^(- |\d+\. )")


def markdown(lines: Sequence[str]) -> str:
    """Join lines; a blank line ends each list, or markdown would pull the next line into its last item."""
    out: list[str] = []
    for line in lines:
        if out and line and _LIST_ITEM.match(out[-1]) and not _LIST_ITEM.match(line):
            out.append("")
        out.append(line)
    return "\n".join(out)


def quote(chunk: Chunk) -> str:
    """A passage as a list line; one that goes on with a long list ("4. 近期白底彩色证件照片…") says of what, and
    from which item ("申请材料（第4项起）：4. …")."""
    prefix = f"【{chunk.name}】"
    body = chunk.text[len(prefix):] if chunk.text.startswith(prefix) else chunk.text
    item = _LIST_ITEM_START.match(body)
    if item and chunk.section in SECTIONS:
        first = int(item.group(1))  # a part from item 5 on says so: the card or the full guide has 1–4
        body = f"{SECTIONS[chunk.section]}{f'（第{first}项起）' if first > 1 else ''}：{body}"
    return f"- {body}"


_LIST_ITEM_START = re.compile(r"(\d+)[.、．]\s*\S")
