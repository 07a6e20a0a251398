"""Grounded answers built from a guide's own fields with templates: nothing that is not in the guide.

Each block of an answer comes from one field and cites it. A field the guide does not state is said
to be unstated, with the consult phone; it is never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answer import Answer, Citation
from assistant.candidates import GENERIC_CHARS, char_pairs
from assistant.fields import (
    BOOKING_ENTRY,
    ENTRY,
    FACET_SECTIONS,
    MAX_SPEECH,
    OVERVIEW,
    THEME_OVERVIEW,
    UNSTATED,
    Record,
    can_do_online,
    card,
    citation,
    clip,
    conditions,
    entry_link,
    entry_title,
    fee_lines,
    how_lines,
    item_lines,
    locations_for,
    markdown,
    materials_lines,
    names_only_a_law,
    online_said,
    online_text,
    phone_lines,
    place_named,
    place_note,
    plain,
    quote,
    result_lines,
    sentence,
    sentences,
    short_place,
    split_sentences,
    spoken_duration,
    spoken_name,
    time_lines,
    unstated,
    where_lines,
    who_lines,
)
from assistant.intent import CUES, FACET_LABELS, FACET_ORDER, Facet, detect_facets
from assistant.lexicon import LEXICON, alternation
from assistant.named import DOCUMENTS
from knowledge.phrasing import describe_location, describe_material
from knowledge.records import Chunk
from knowledge.schema import Hall, Location, Material, ServiceGuide, Theme

# The lines that end an answer, after what it says: a note on the data's age, what to do if this is not the
# service meant, and the source.
TIP = "提示："
UNSURE = "如果您要办的不是"
SOURCE = "来源："
RELATED = "**相关说明**"  # the passages that answer what the card does not, each a list item under it
ONLINE_LINE = "**网上办理**"  # the card's line on whether and where it is done online
CHANNELS = "办理形式："  # the passage that lists the ways a guide is done, and its online entry


def compose_answer(record: Record, facets: Sequence[Facet], *, region: str | None = None, hall: Hall | None = None,
                   item_names: dict[str, str] | None = None, related: Sequence[Chunk] = (),
                   confidence: float = 0.0, unsure: bool = False, only_related: bool = False,
                   notes: Sequence[str] = (), spoken_notes: Sequence[str] | None = None,
                   question: str = "", notes_lead: bool = False, opening: str | None = None) -> Answer:
    """The answer to ``facets`` (an overview when empty) from one guide or theme.

    The text opens with the passage that answers (a FAQ's answer, the field asked for, "能网上办吗" from the
    channels), then a compact card of what the question needs; every field of the guide goes to
    ``Answer.guide``. ``related`` are the guide's chunks that match the question best (a FAQ, a note); with
    ``only_related`` (and some related) they are the whole answer. ``unsure`` adds a line on what to do if
    this is not the service the citizen meant, and a 转人工 chip. ``notes`` follow the asked facets, in text
    and speech (what the guide does not say about the question: "指南未载明能否加急办理…"); ``spoken_notes``,
    when given, are said instead of them (the clause of a quoted passage that answers: "急需用证的可同时申请临时
    居民身份证"). ``notes_lead``: the first note answers and leads instead of the time limit (a deadline asked).
    ``opening``: a clause of one of ``related`` that answers first, before the lead (the sum a service pays).
    """
    quoted = [c for c in related if c.record_id == record.id]
    asked = [f for f in FACET_ORDER if f in facets] or list(THEME_OVERVIEW if isinstance(record, Theme) else OVERVIEW)
    if only_related and quoted and not facets:
        asked = []
    if asked == ["how"]:  # "怎么办" asks for the whole procedure: what to bring, then the steps
        asked = ["materials", "how"]
    guide, sections = _full_guide(record, facets, asked, region, hall, item_names or {}, quoted, notes, question)
    lead, spoken, lead_from, led = _lead(record, facets, quoted, region, hall, question, pointed=only_related)
    if notes_lead and notes and led == "time":
        # "多久内要去变更": the guide's words on the deadline answer; how long the procedure takes follows in the card
        lead, spoken, led, notes = notes[0], spoken_notes[0] if spoken_notes else notes[0], None, list(notes[1:])
        spoken_notes = list(spoken_notes[1:]) if spoken_notes else None
    if opening:  # a clause of a related passage that answers before the rest ("每月按300元（每年3600元）计算。")
        lead, spoken = opening + lead, opening + spoken
    notes = [n for n in notes if n.rstrip("。") not in lead]  # what the answer opens with is not said twice
    lines = [f"**{record.name}**：{lead}"]
    if isinstance(record, Theme) and asked:
        lines += _compact_items(record, item_names or {})
    answered = lead_from is not None and asks_something(question)  # a passage answers what was asked
    # the conditions answer ("燃气过户要不要房产证": 已取得不动产权证书…): the card gives them whole, once, not cut
    # short there and repeated under 相关说明
    whole_conditions = any(c.section == "eligibility" for c in quoted)
    # the one field asked is not in the guide ("想报名参加免费的职业技能培训": no 收费标准): the card of a bare name
    carded_facets = [] if len(facets) == 1 and led in facets and lead.startswith(UNSTATED) else facets
    lines += _compact_card(record, carded_facets, region, lead, led, question, answered=answered,
                           whole_conditions=whole_conditions) if asked else []
    lines += notes
    # Other passages stay in the text (they answer what the card does not); those of fields the card already
    # gives (a place, the materials) are in the full guide.
    carded = {"materials", "locations", "time_fee", "contact", "steps"} if not facets or "how" in facets else \
        {FACET_SECTIONS[f] for f in facets}
    if isinstance(record, Theme):
        carded.add("items")  # the items are listed above
    rest = [_quoted(record, c) for c in quoted if c.section not in carded
            and not (c is lead_from and len(_faq_answer([c]) or "") <= FAQ_LEAD)
            and not any(note.rstrip("。") in c.text for note in [*notes, lead])  # a passage said in short already
            and not _in_card(c, lines)]
    if rest:
        lines += [RELATED, *rest]
    if isinstance(record, ServiceGuide) and record.extra.get("采集年份"):
        lines.append(f"{TIP}本指南为{record.extra['采集年份']}年采集的数据，可能已有更新，请以官方最新发布为准。")
    if unsure:
        lines.append(f"{UNSURE}“{record.name}”，请换个说法再问，也可以转人工服务。")
    source = citation(record, "name")
    lines.append("")
    lines.append(f"{SOURCE}[{source.title}]({source.url})" if source.url else f"{SOURCE}{source.title}")
    unasked = [f for f in ("materials", "where", "time", "fee") if f not in asked]
    chips = {"materials": "要带什么材料", "where": "在哪里办", "time": "要多久", "fee": "收费吗"}
    # A field's answer is said with what it is about; a passage that answers ("不用。…") is said as it is.
    short = spoken_name(record.name)
    named = f"{short}，" if len(short) <= SPOKEN_NAME and lead_from is None else ""
    speech = plain(named) + _whole_sentences(plain(spoken), SPEECH_LEAD)
    if lead_from is not None and (whole := _faq_answer([lead_from])):
        speech = _also_asked(plain(spoken_duration(whole)), speech, question)
    # what the voice has not said yet: a note the lead's passage holds beyond the part said aloud is said too
    said = [n for n in (notes if spoken_notes is None else spoken_notes) if n.rstrip("。") not in speech]
    for note in said:  # each as much of it as there is room for, in whole clauses
        if (room := MAX_SPEECH - len(speech)) > CLAUSE:
            speech += _whole_sentences(plain(note), room)
    passage = quote(lead_from) if lead_from is not None else ""
    for also in _also_said(record, facets, led, region, question, passage):  # the other facets asked, in short
        if also not in speech and len(speech) + len(also) <= MAX_SPEECH:
            speech += also
    phone = record.consult_phone or ""
    call = f"详情可致电{phone}。" if phone else ""
    if call and (not facets or "how" in facets) and phone not in speech and \
            len(speech) + len(call) <= MAX_SPEECH:
        speech += call  # "怎么办" at a kiosk: the screen's card is not taken home, a number to call is
    speech = clip(speech, MAX_SPEECH)
    sections += _compact_sections(record, facets)
    return Answer(
        text=markdown(lines),
        guide=guide,
        speech=speech,
        decision="answer",
        cards=[card(record)],
        citations=[*(citation(record, s) for s in dict.fromkeys(sections)),
                   *(_item_citation(i, item_names or {}) for i in (record.items if isinstance(record, Theme) else []))],
        suggestions=[*[chips[f] for f in unasked][: 2 if unsure else 3], *(["转人工"] if unsure else [])],
        confidence=confidence,
    )


QUESTION_WORDS = LEXICON.pattern("question-words")  # "多少", "怎么", "哪个"


def asks_yes_no(question: str) -> bool:
    """Is it a yes-or-no question ("能网上办吗", "要不要预约", "…还能上户口不？": `yes-no-question.re`)?"""
    return _YES_NO.search(question) is not None


def asks_something(question: str) -> bool:
    """A question for something in particular ("能…吗", "多少", "怎么"), not a bare service name."""
    return asks_yes_no(question) or QUESTION_WORDS.search(question) is not None


def _also_said(record: Record, facets: Sequence[Facet], led: str | None, region: str | None,
               question: str, passage: str = "") -> list[str]:
    """What the voice adds for the other facets the question asks, each in a short sentence: the time limit and the
    fee ("要钱吗？要多久"), whether it can be done online, the materials, the place ("能在青山区领证吗？地址在哪":
    after the FAQ's "可以。…"), the phone. After a leading ``passage``, only what it does not speak of."""
    said = []
    named = place_named(record, region, question)
    # After a field that answers one facet, the others in short. After a passage, only what it does not speak of:
    # it has answered in its own words ("注销抵押登记不收费"), which a field (the registration's fee) would
    # contradict; and never the time limit, since a "多少天" it answers (生育津贴: 98天) is seldom the days the
    # procedure takes.
    spoken = {*detect_facets(passage), "time", *(["online"] if "网上" in passage else [])}

    def after(facet: str) -> bool:  # the lead did not answer this facet
        return led != facet if led is not None else bool(passage) and facet not in spoken

    limit = _time_short(record)
    if "time" in facets and after("time") and not limit.startswith(UNSTATED):
        said.append(f"办理时限{limit}")
    if "fee" in facets and after("fee") and record.fee:
        said.append(f"收费标准：{sentence(_whole_sentences(plain(record.fee), ALSO_FEE, in_part=False))}")
    # asked whether it can be done online; or asked how, of a guide done nowhere but online ("商品条码怎么查")
    online = can_do_online(record)
    if online is not None and after("online") and \
            (_ONLINE_QUESTION.search(question) or "how" in facets and not record.locations and online):
        said.append(online_said(record))
    if "materials" in facets and after("materials") and led != "overview" and record.materials:
        said.append(f"需要准备{_first_materials(record, marked=True)}。")
    if ("where" in facets or named is not None) and led not in ("where", "online"):
        places = locations_for(record, region, question)
        if places:
            said.append(f"可到{_place_name(places[0])}办理。")
    if "phone" in facets and led != "phone" and record.consult_phone:
        said.append(f"咨询电话{record.consult_phone}。")
    return said


def _whole_sentences(text: str, limit: int, *, in_part: bool = True) -> str:
    """As many whole sentences as fit in ``limit`` characters, for the voice, and of the next one the clauses or
    list items that fit, ended as a sentence; the first one clipped when nothing else fits. Never a word cut
    in half ("需准备甲、乙、丙…"), and never a "；" at the end. Not ``in_part``: no clause of a next sentence
    ("工本费每证10元。", not "…10元；网上申请邮寄的。"), only of the first when none fits."""
    kept = ""
    for part in split_sentences(text):
        if len(kept) + len(part) > limit:
            room = part[: limit - len(kept)] if in_part or not kept else ""
            # its first clauses, as a sentence; never a clause that only leads on (of the first sentence, one
            # that ends in 的 may: "受理条件：…解除劳动关系的" names who), and of a later sentence none whose
            # unsaid rest still leads on to what follows
            if (clause := _clause_end(room, _CLAUSE_LEADS if kept else _CLAUSE_LEADS - {"的"})) >= CLAUSE and \
                    not (kept and _conditional(part[clause + 1:])):
                kept += room[:clause] + "。"
            elif (item := _last_outside_brackets(room, "、")) >= CLAUSE:  # a list said in part: "需准备甲、乙等。"
                kept += room[:item] + "等。"
            break
        kept += part
    # a list's item ends its sentence with "；" in the guide; said or shown alone, it ends with a full stop, as
    # does a field written without one ("不收费（首次办理免费）")
    return re.sub(r"[；;]?\s*$", "", kept) + "。" if kept and not re.search(r"[。！？]$", kept) else \
        kept or clip(text, limit)


def _also_asked(passage: str, said: str, question: str) -> str:
    """What is said, and after it the sentence of a passage, beyond what is said of it, that shares the most words
    with the question and none said: "公司经营困难，缴存比例能调低吗" hears "可以申请。…由单位决定后办理变更。" and
    then "确有困难需要低于5%或者缓缴的，须经职工代表大会或者工会讨论通过。" The rest of a sentence said in part goes
    on from it ("…交易活动的，不需要办理市场主体登记。"). Nothing more when no sentence left speaks of the question."""
    asked = _pairs(question) - _pairs(said)
    parts = split_sentences(passage)
    left = [rest for part in parts if (rest := _unsaid(part, said))]
    best = max(left, key=lambda part: len(_pairs(part) & asked), default="")
    if len(_pairs(best) & asked) < ALSO_ASKED:
        return said
    # the whole sentence or nothing: its first clauses alone may drop what it concludes ("…经职工代表大会或者工会
    # 讨论通过" without "…可以降低缴存比例或者缓缴")
    part = re.sub(r"[；;]$", "。", best)
    if len(said) + len(part) > MAX_SPEECH:
        return said
    goes_on = said.endswith("。") and any(sentence.endswith(best) and sentence != best and
                                          said.endswith(sentence[:-len(best) - 1] + "。")
                                          for sentence in parts)
    return (said[:-1] + "，" if goes_on else said) + part


def _unsaid(sentence: str, said: str) -> str:
    """What of a sentence is not said yet: all of it, none, or the clauses after those said ("…即可。")."""
    if sentence.rstrip("。；！？") in said:
        return ""
    cut = len(sentence)
    while (cut := _last_outside_brackets(sentence[:cut], "，")) > 0:
        if sentence[:cut] in said:
            return sentence[cut + 1:]
    return sentence


# "…每证10元；网上申请邮寄的，邮寄费用以…为准": after a whole sentence, a clause that only leads into the next one
# ("…的", "…时", "…后") is no place to stop. The first sentence may stop there: "受理条件：…解除劳动关系的" names who.
_CLAUSE_LEADS = frozenset(LEXICON.words("clause-leads"))


def _conditional(text: str) -> bool:
    """Does the rest of a sentence, not said, hold a clause that only leads on ("…讨论通过，并经审批后，可以降低缴存
    比例")? Then what is said of it is still a condition, and what follows from it is in the rest."""
    return any(text[i - 1] in _CLAUSE_LEADS for i, char in enumerate(text) if char == "，" and i > 0)


def _clause_end(text: str, leads: frozenset[str]) -> int:
    """Where the last "，" outside brackets ends a clause that says something alone: not right after one of
    ``leads`` (-1 when none does)."""
    end = len(text)
    while (end := _last_outside_brackets(text[:end], "，")) > 0 and text[end - 1] in leads:
        pass
    return end


def _last_outside_brackets(text: str, mark: str) -> int:
    """Where ``mark`` last occurs outside brackets (-1 when nowhere): a sentence cut there leaves none open."""
    depth, last = 0, -1
    for i, char in enumerate(text):
        depth += (char in "（(") - (char in "）)")
        if char == mark and depth <= 0:
            last = i
    return last


def _full_guide(record: Record, facets: Sequence[Facet], asked: Sequence[Facet], region: str | None,
                hall: Hall | None, item_names: dict[str, str], quoted: Sequence[Chunk],
                notes: Sequence[str], question: str) -> tuple[str, list[str]]:
    """Every field asked for (all of them for an overview) with the quoted passages, as markdown; and the
    sections it cites."""
    blocks: list[str] = [f"关于**{record.name}**："]
    sections = ["name"]
    if isinstance(record, Theme) and asked:
        blocks += item_lines(record, item_names)
        sections.append("items")
    builders = {"who": who_lines, "materials": materials_lines, "how": how_lines, "time": time_lines, "fee": fee_lines,
                "phone": phone_lines, "result": result_lines}
    for facet in FACET_ORDER:  # every field, whatever was asked: this is the full guide
        lines = where_lines(record, region, hall, question) if facet == "where" else builders[facet](record)
        blocks.append(f"**{FACET_LABELS[facet]}**")
        blocks += lines
        if facet in asked:
            sections.append(FACET_SECTIONS[facet])
    blocks += notes
    if quoted:
        blocks.append(RELATED)
        blocks += [quote(c) for c in quoted]
        sections += [c.section for c in quoted]
    return spoken_duration(markdown(blocks)), sections


LEAD_CONDITIONS = 200  # the conditions that answer "谁能办" are cut here, the rest in the full guide
FAQ_LEAD = 150  # a FAQ's answer up to this long leads whole; a longer one leads with two sentences
SPOKEN_NAME = 10  # a service name this short is said before the answer
SPEECH_LEAD = 70  # the spoken answer: about 60 characters, a sentence or two
SPEECH_PLACE = 100  # a place said with its address up to this long, else by name and window alone
SUMMARY_LEAD = 70  # a theme's summary in its lead: cut at a clause past this (its items are listed below it)
ALSO_ASKED = 1  # question words a further sentence of the leading passage shares, for the voice to say it
CLAUSE = 6  # the shortest part of a sentence said on its own when the whole does not fit
OPTIONAL = "（非必需）"  # a material the guide asks only in some cases, as its list marks it
CARD_ITEMS = 5  # list items a compact card shows before "等N项，详见完整指南"
_YES_NO = LEXICON.regex("yes-no-question")
_ONLINE_QUESTION = LEXICON.regex("online-question", flags=re.I)
# Questions that name no facet but ask for one in their own words ("哪些人可以申请", "要交什么", "上哪查").
_ONLINE_LOOKUP = LEXICON.regex("online-lookup")
_OVERVIEW_WHO = LEXICON.regex("overview-who")
_OVERVIEW_CUES: tuple[tuple[Facet, re.Pattern[str]], ...] = (
    ("materials", LEXICON.regex("overview-materials")),
    ("who", _OVERVIEW_WHO),
)
_DELIVERY_QUESTION = LEXICON.pattern("delivery-question")
_ANOTHER = LEXICON.pattern("another-person")
ASKS_WHEN = LEXICON.groups("hall-words")["when"]  # "周六能去领结婚证不", "几点下班": when, not where
WHEN_PLACES = 2  # places whose hours lead an answer to when
_WEEKEND = LEXICON.groups("weekend-days")
POST = "邮寄"  # the delivery a guide lists when the result can be sent
# A FAQ answers a yes/no question when it opens with the answer.
_YES_NO_ANSWER = LEXICON.pattern("yes-no-answers", before="^")
# An FAQ's answer that opens with a verdict of its own case ("暂时不能。需要先办理居住登记，登记满半年…"): to a
# question that is not a yes or no ("居住登记满多久才能办居住证") it answers with what follows the verdict.
_VERDICT = re.compile(f"^[^。，,！？]{{0,2}}(?:{alternation(LEXICON.words('yes-no-answers'))})[。，,！]")
_KINDS = LEXICON.groups("verdict-kinds")
_CONFIRMS = re.compile(f"^(?:{alternation(sorted(_KINDS['confirm'], key=len, reverse=True))})[。，,！]")


def _weekend_days(question: str) -> set[str]:
    """The days of the weekend a question asks about: {"六"}, {"日"}, both for 周末."""
    days = {day for day, words in _WEEKEND.items() if any(w in question for w in words)}
    return ({"六", "日"} if "周末" in days else set()) | (days - {"周末"})


def closed_days(hours: str, question: str) -> str:
    """The days of the weekend the question asks about that hours naming their days ("周一至周五 …") leave out:
    "周六", "周六、周日", or "" (hours open every day, "每日 8:00-17:00", say no day is left out)."""
    if "周" not in hours or "每" in hours:
        return ""
    return "、".join(f"周{day}" for day in ("六", "日") if day in _weekend_days(question) and not _opens_on(hours, day))


def _opens_on(hours: str, day: str) -> bool:
    """Do the hours name the day ("周六 9:00-12:00") or a range that ends on it ("周一至周六")?"""
    return f"周{day}" in hours or re.search(f"周[一二三四五六]至周{day}", hours) is not None


# A certificate an FAQ asks of: the two characters before a document's head, and the head (就业证, 结婚证).
_FAQ_DOCUMENT = re.compile(f"([\u4e00-\u9fff]{{2}})({alternation(sorted(DOCUMENTS, key=len, reverse=True))})")


def _of_another_thing(question: str, faq: Chunk | None) -> bool:
    """Does the FAQ's yes or no answer for a certificate of what the question speaks of, which the question does not
    ask for ("招港澳台员工还要办就业证吗？" answers "不需要", of a 就业证; "要不要办就业登记" asks of the 登记)?"""
    if faq is None or _asks_the_faq(question, faq):
        return False
    return any(m.group(1) in question and m.group(0) not in question and m.group(1)[-1] not in GENERIC_CHARS
               for m in _FAQ_DOCUMENT.finditer(_faq_asks(faq)))  # not "新办证": no certificate of 新办


def _other_kind(question: str, verdict: str) -> bool:
    """Does the verdict ("不用。") answer another kind of yes-or-no question (need) than the one asked (can: "能在你们
    这领结婚证不")? Only when the question's words are of one kind alone."""
    said = verdict.rstrip("。，,！").lstrip()
    kind = next((k for k in ("can", "need") if any(said.endswith(w) and len(said) - len(w) <= 2 for w in _KINDS[k])),
                None)
    asked = {k for k in ("can", "need") if any(w in question for w in _KINDS[f"asks-{k}"])}
    return kind is not None and len(asked) == 1 and kind not in asked


def _quoted(record: Record, chunk: Chunk) -> str:
    """A passage as a list line; the end of 受理条件 that the guide breaks off ("…可以提出申请：", "…除外）；") says,
    as the card does, that the rest is not listed and whom to ask, and a passage that stops in a list says that the
    rest is in the full guide."""
    line = quote(chunk)
    if chunk.section == "eligibility" and isinstance(record, ServiceGuide) and record.eligibility and \
            _bare(whole := record.eligibility.rstrip()).endswith(_bare(line[2:].split("：", 1)[-1])):
        shown = conditions(record)
        line += shown[len(whole):] if shown.startswith(whole) else ""
    elif line.endswith(("；", ";")):  # a list the passage stops in the middle of ("…必要时发布公告；")
        line = f"{line[:-1]}……（详见完整指南）"
    return line


def _bare(text: str) -> str:
    """A text without its spaces: a passage as indexed and its field as stored space their lists apart differently."""
    return re.sub(r"\s+", "", text)


def _in_card(chunk: Chunk, lines: Sequence[str]) -> bool:
    """The passage is a field the card above already shows whole ("受理条件：…" under **受理条件**), or the ways it is
    done ("办理形式：…；网办入口：…") where the card has said how it is done online and given the entry."""
    body = quote(chunk)[2:]
    if body.startswith(CHANNELS) and any(line.startswith(ONLINE_LINE) or ENTRY in line or BOOKING_ENTRY in line
                                          for line in lines):
        return True
    said = body.partition("：")[2]
    return bool(said) and chunk.section != "faq" and any(said.rstrip("。；") in line for line in lines)


def _faq_answer(quoted: Sequence[Chunk]) -> str | None:
    faq = _faq(quoted)
    return quote(faq)[2:].split("答：", 1)[1].strip() if faq else None


def _faq(quoted: Sequence[Chunk]) -> Chunk | None:
    return next((c for c in quoted if c.section == "faq" and "答：" in c.text), None)


# The guide's own FAQ asks the citizen's question when this share of the character pairs of the two questions is
# shared (Dice): "生育津贴能领多少天" is answered by the FAQ that asks it, not by the time limit that 多少天 names.
FAQ_ASKED = 0.6
# An FAQ speaks of the citizen's question at all when this share of its question's character pairs is in the
# message; one below it only shares a word or two ("食品证咋办" and "证还没下来，能不能先开业？") and does not lead.
FAQ_COVERED = 0.3
_TIME_CUES = sorted(CUES["time"], key=len, reverse=True)  # "多长时间" before "时间"
_CARDED_FACETS = {"materials", "where", "time", "fee", "phone"}  # what a bare name's card gives from the fields
FAQ_SAME = 0.5  # the share of an FAQ's question in the message when it asks for the same facet as the message


def _pairs(text: str) -> set[str]:
    chars = [c for c in text if c.isalnum()]
    return {chars[i] + chars[i + 1] for i in range(len(chars) - 1)}


def _faq_asks(faq: Chunk) -> str:
    """The question a FAQ passage asks ("【名称】问：…？答：…" → "…？")."""
    return faq.text.split("答：", 1)[0].split("】", 1)[-1].split("问：", 1)[-1]


def _faq_question(faq: Chunk) -> set[str]:
    return _pairs(_faq_asks(faq))


def _asks_the_faq(question: str, faq: Chunk | None) -> bool:
    if faq is None or not question:
        return False
    ours, theirs = _pairs(question), _faq_question(faq)
    return bool(ours and theirs) and 2 * len(ours & theirs) / (len(ours) + len(theirs)) >= FAQ_ASKED


def where_faq(question: str, related: Sequence[Chunk]) -> bool:
    """Where to go, asked as the guide's own FAQ asks it (most of its question is in the message): "我爸晚上在家里
    走了，死亡证明找谁开" of "老人半夜在家里去世了，死亡证明找谁开？", whose answer says whom to ask for that case
    wherever one lives, where the guide's places are every place for every case. Not for a fee or a time limit:
    the field answers those (measured: a FAQ on what a replacement costs, leading, lost the fee's own words)."""
    faq = _faq(related)
    return faq is not None and "where" in detect_facets(_faq_asks(faq)) and _faq_cover(question, faq) >= FAQ_SAME


def _faq_asks_time(faq: Chunk | None) -> bool:
    """Does the FAQ ask how long ("临时备案能用多久？")?"""
    return faq is not None and "time" in detect_facets(_faq_asks(faq))


def _asks_how_long_as_the_faq(record: Record, facets: Sequence[Facet], faq: Chunk | None, question: str) -> bool:
    """"多久" asked of something the guide's name does not say and its FAQ on 多久 does ("减资要多久" of 企业变更登记,
    whose FAQ asks "公司减资要多长时间"; "临时出去看病的备案能管多久" of 异地就医备案 and "临时备案能用多久"): the time
    limit field says how long the whole procedure takes, and the FAQ's answer tells what was asked (45日, 6个月).
    "办护照要多久" and "居住证办理要多少天" name nothing but the service: its time limit, a number, leads."""
    if faq is None or "time" not in facets or not _faq_asks_time(faq):
        return False
    rest = question
    for cue in _TIME_CUES:
        rest = rest.replace(cue, "，")
    # pairs with a character the name lacks: "临时身份证" re-spells 临时居民身份证, its 时身 names nothing more
    named = set(record.name)
    own = {p for p in char_pairs(re.split(r"\W+", rest)) if not set(p) & GENERIC_CHARS and not set(p) <= named}
    return bool(own & _faq_question(faq))


def _faq_cover(question: str, faq: Chunk | None) -> float:
    """The share of the FAQ's question's character pairs that the citizen's message holds."""
    theirs = _faq_question(faq) if faq is not None else set()
    return len(_pairs(question) & theirs) / len(theirs) if theirs else 0.0


def _numbers_unsaid(faq_question: str, question: str) -> bool:
    """Does the FAQ ask of a case with a number the citizen has not given ("我52岁了", "交了3年")?"""
    return any(n not in question for n in re.findall(r"\d+", faq_question))


def _own_pairs(question: str, record: Record) -> set[str]:
    """The question's character pairs that name neither the service nor nothing ("要住满半年吗": 住满, 满半, 半年)."""
    return {p for p in _pairs(question) - _pairs(record.name) if not set(p) & GENERIC_CHARS}


def _condition_parts(conditions_text: str) -> list[str]:
    """The conditions' sentences and clauses between "；", each with its mark."""
    return [p for p in re.split(r"(?<=[。；;])", conditions_text) if p.strip()]


def _clause_asked(conditions_text: str, pairs: set[str]) -> str:
    """The sentence of the conditions that holds most of the question's own character pairs, when it is not their
    first (which the conditions open with anyway): "全体继承人应到场或提交经公证的委托书…" for "…都要到场吗"."""
    parts = _condition_parts(conditions_text)
    counts = [len(pairs & _pairs(p)) for p in parts]
    best = max(range(len(parts)), key=lambda i: (counts[i], -i), default=0)
    if best == 0 or not counts[best]:
        return ""
    return _as_sentence(parts[best])


def _as_sentence(part: str) -> str:
    """A part of the conditions said on its own: without its list number ("2）持证残疾人…"), ending "。"."""
    return _LIST_MARK.sub("", part.strip()).rstrip("；;。") + "。"


_LIST_MARK = re.compile(r"^(?:[（(]?\d{1,2}[）)、.．]|[①-⑩])\s*")


def _asks_who(text: str) -> bool:
    """"谁可以申请", "需要什么条件", "哪些人可以申请": a question of who may apply."""
    return "who" in detect_facets(text) or _OVERVIEW_WHO.search(text) is not None


def _looks_up_online(question: str) -> bool:
    """"网上哪里报名", "上哪查": where to look it up or do it online. Not "网上查不到，去哪个窗口"."""
    found = _ONLINE_LOOKUP.search(question)
    return found is not None and "不" not in question[found.start():found.end() + 2]


def asks_online(question: str, facets: Sequence[Facet]) -> bool:
    """"网上能签注吗", "手机上能办吗": answered by whether the guide can be done online, the same in every district.
    Not "我不会在网上弄，去哪个窗口办", which asks for a place."""
    return bool(_ONLINE_QUESTION.search(question)) and not _asks_place(question) and \
        ("where" in facets or asks_yes_no(question))


_PLACE_QUESTION = LEXICON.pattern("place-question")


def _asks_place(question: str) -> bool:
    """A word of asking for a place, not one said of what the citizen will not do ("不想跑窗口")."""
    return any("不" not in question[max(0, m.start() - 3):m.start()] for m in _PLACE_QUESTION.finditer(question))


def _lead(record: Record, facets: Sequence[Facet], quoted: Sequence[Chunk], region: str | None,
          hall: Hall | None, question: str, *, pointed: bool = False) -> tuple[str, str, Chunk | None, str | None]:
    """The sentence or two that answer, for the text and for the speech; the quoted passage they come from, or
    else the part of the card they give (which the card then leaves out). ``pointed``: the passages were found
    for a follow-up that asks about something the guide speaks of ("户口本也要吗"), and they are the answer."""
    faq = _faq_answer(quoted)
    asked = _faq(quoted)  # the FAQ passage that answer is from
    if faq and not pointed and _faq_cover(question, asked) < FAQ_COVERED:
        faq = None  # "食品证咋办" is not answered by the FAQ "证还没下来，能不能先开业？" that shares a word with it
    elif faq and asked and _ANOTHER.search(_faq_asks(asked)) and not _ANOTHER.search(question):
        faq = None  # "怎么查我名下有几套房" is not answered "不能" by the FAQ "能查别人名下有几套房吗？"
    elif faq and asked and not pointed and _numbers_unsaid(_faq_asks(asked), question) and \
            not _asks_the_faq(question, asked):
        faq = None  # "以前交的养老保险怎么转过来" is not answered by the case of "我52岁了，…能转过来吗？"
    elif faq and asked and not facets and not asks_something(question) and \
            set(detect_facets(_faq_asks(asked))) & _CARDED_FACETS:
        faq = None  # "申请低保" asks for the service, not the FAQ "申请低保要多长时间？" that holds all its words
    yes_no = asks_yes_no(question)
    # "网上能签注吗"; and where online, for a guide that can be done online ("在网上哪里报名", "网上能查吗")
    if asks_online(question, facets) or (set(facets) <= {"where"} and not faq and _looks_up_online(question)
                                         and can_do_online(record)):
        text = online_said(record)
        return text, text, None, "online"
    if set(facets) <= {"who", "where"} and place_named(record, region, question) is not None and \
            not _asks_the_faq(question, asked):
        text, said = _where_lead(record, region, hall, question)  # "在镇上能办吗": the town's centre, named first
        return text, said, None, "where"
    first = next((f for f in ("time", "fee", "phone", "where", "materials", "who", "result", "how") if f in facets),
                 None)
    if not facets and not faq:  # no facet named: what the question's own words ask for
        first = next((f for f, cue in _OVERVIEW_CUES if cue.search(question)), None)
        if first is None and yes_no and isinstance(record, ServiceGuide) and record.eligibility and \
                _own_pairs(question, record) & _pairs(record.eligibility):
            first = "who"  # "居住证申领要住满半年吗": the conditions say it (居住登记满半年)
        if first == "who" and isinstance(record, ServiceGuide) and names_only_a_law(record):
            first = None  # "能补发吗" of a guide whose conditions are a law's title: the overview answers

    if asked is not None and set(facets) == {"who"} and not yes_no and not _asks_who(_faq_asks(asked)) and \
            not _asks_the_faq(question, asked):
        faq = None  # "要什么条件" is not answered by the FAQ on how long it takes, but by the conditions
    if faq and (not facets or (yes_no and _YES_NO_ANSWER.match(faq)) or set(facets) <= {"who", "how"} or
                _asks_the_faq(question, asked) or first == "where" and where_faq(question, quoted) or
                _asks_how_long_as_the_faq(record, facets, asked, question)):
        answer = spoken_duration(faq)
        if (confirm := _CONFIRMS.match(answer)) and len(answer) > confirm.end() and \
                not _asks_the_faq(question, asked):
            answer = answer[confirm.end():]  # "是的。" says yes to the FAQ's "真的免费刻章吗", not to "刻公章要钱吗"
        if (verdict := _VERDICT.match(answer)) and len(answer) > verdict.end() and \
                (not yes_no or _other_kind(question, answer[:verdict.end()]) or _of_another_thing(question, asked)):
            answer = answer[verdict.end():]
        return (answer if len(answer) <= FAQ_LEAD else sentences(answer)), sentences(answer), asked, None
    if first == "time" and faq and _faq_asks_time(asked):
        # the time limit leads ("办理要多少天"), and the voice goes on with the guide's own answer to its own 多久
        # ("能用多少天"), which the screen shows right below: either may be the 多久 meant
        text = _time_lead(record)
        return text, _time_said(record) + spoken_duration(faq), None, first
    if first == "time":
        text = _time_lead(record)
        return text, _time_said(record), None, first
    elif first == "fee":
        text = fee_lines(record)[0]
    elif first == "phone":
        text = phone_lines(record)[0]
    elif first == "where":
        text, said = _where_lead(record, region, hall, question)
        return text, said, None, first
    elif first == "materials":
        text = _materials_lead(record)
        return text, _materials_lead(record, marked=True), None, first
    elif first == "who" and isinstance(record, ServiceGuide) and record.eligibility and yes_no and \
            (clause := _clause_asked(record.eligibility, _own_pairs(question, record))):
        return clause, clause, None, "clause"  # "…都要到场吗": 全体继承人应到场…; the other conditions follow
    elif first == "who" and isinstance(record, ServiceGuide) and record.eligibility:
        text = f"受理条件：{conditions(record, LEAD_CONDITIONS)}"
    elif first == "who" and isinstance(record, Theme) and record.summary:
        text = _overview_lead(record)  # "能一起办吗": what it does together and how long it takes
    elif first == "who":
        text = who_lines(record)[-1]
    elif first == "result":
        result = result_lines(record)
        if _DELIVERY_QUESTION.search(question):  # "能寄快递吗": how the result is sent, first
            sent = [line for line in result if line.startswith("结果送达")]
            result = [*sent, *(line for line in result if line not in sent and not line.startswith(UNSTATED))] \
                if sent else [unstated("结果送达方式", record)]
            if yes_no and isinstance(record, ServiceGuide) and POST in record.delivery:  # "能不能寄到家里": 邮寄 listed
                result = [f"可以{POST}。", *result]
        text = "".join(result)
    elif faq:
        answer = spoken_duration(faq)
        return (answer if len(answer) <= FAQ_LEAD else sentences(answer)), sentences(answer), asked, None
    else:
        text = _overview_lead(record)
        first = "overview" if isinstance(record, ServiceGuide) else "theme"
        # the voice marks a material asked only in some cases, as for a question of materials
        return text, _overview_lead(record, marked=True), None, first
    return text, text, None, first


def _time_lead(record: Record) -> str:
    promised = record.time_limit_promised
    legal = record.time_limit_legal if isinstance(record, ServiceGuide) else None
    if not (promised or legal):
        return unstated("办理时限", record)
    if promised and spoken_duration(promised) == spoken_duration(legal or ""):
        return f"{spoken_duration(promised)}（承诺及法定办结时限）。"  # one value, said once
    if promised:
        text = f"{spoken_duration(promised)}（承诺办结时限）"
        return text + (f"；法定办结时限{spoken_duration(legal)}。" if legal else "。")
    return f"{spoken_duration(legal or '')}（法定办结时限）。"


def _time_said(record: Record) -> str:
    """The time limit as said aloud, without the brackets that label it on screen: "承诺即时办结，法定办结时限为3个
    自然日。", "承诺及法定办结时限均为20个工作日。"."""
    promised = spoken_duration(record.time_limit_promised or "")
    legal = spoken_duration(record.time_limit_legal or "") if isinstance(record, ServiceGuide) else ""
    if not (promised or legal):
        return _time_lead(record)

    def said(kind: str, limit: str) -> str:
        return f"{kind}{limit}" if limit == AT_ONCE else f"{kind}办结时限为{limit}"

    if promised and promised == legal:
        return f"{AT_ONCE}。" if promised == AT_ONCE else f"承诺及法定办结时限均为{promised}。"
    return "，".join(said(kind, limit) for kind, limit in (("承诺", promised), ("法定", legal)) if limit) + "。"


AT_ONCE = "即时办结"


NOT_HERE = "本大厅不受理此项业务，"  # a kiosk's hall is none of the places the guide lists


def _where_lead(record: Record, region: str | None, hall: Hall | None, question: str) -> tuple[str, str]:
    """Where to go, for the text and for the speech."""
    places = locations_for(record, region, question)
    if hall is not None:
        here = [loc for loc in places
                if (loc.name and hall.name in loc.name) or (hall.address and loc.address == hall.address)]
        if here:
            text = f"本大厅即可办理：{here[0].window or hall.name}。"
            closed = closed_days(here[0].hours or "", question)
            if closed:  # "这周六能来办二手房过户吗": here, but not on that day; where it is done then
                text = f"本大厅可办理：{here[0].window or hall.name}，但{closed}不在办理时间内。"
                days = _weekend_days(question)
                then = [loc for loc in places if loc is not here[0] and loc.hours and
                        any(_opens_on(loc.hours, day) for day in days)]
                if then:
                    text += f"{closed}可到{short_place(then[0])}办理。"
            return text, text
        if places:  # at a kiosk of a hall that is none of the guide's places: say so before sending elsewhere
            text, said = _where_lead(record, region, None, question)
            return f"{NOT_HERE}{text}", f"{NOT_HERE}{said}"
    timed = [loc for loc in places if loc.hours]
    if len(places) > 1 and timed and any(word in question for word in ASKS_WHEN):
        # "周六能去领结婚证不": when each place is open, first (the card still lists them with their addresses), those
        # open on the day of the weekend asked first; one place is given below with its hours in one sentence
        days = _weekend_days(question)
        if days:
            timed = sorted(timed, key=lambda loc: not any(_opens_on(loc.hours or "", day) for day in days))
        opening = [f"{loc.name or short_place(loc)}办理时间：{(loc.hours or '').rstrip('。；')}。"
                   for loc in timed[:WHEN_PLACES]]
        return "".join(opening), opening[0]
    if len(places) == 1 and places[0].hours:  # the card lists no place then: its hours here
        hours = places[0].hours.rstrip("。；").replace("；", "，")  # one sentence, said whole or not at all
        place = f"可到{short_place(places[0])}办理"
        text = f"{place}，办理时间：{hours}。"
        return text, text if len(text) <= SPEECH_LEAD else f"{place}。"  # "上午9:00至12:00" alone would mislead
    if len(places) > 1:  # the card lists them with their addresses: the first here by name and window
        text = f"可到{_place_name(places[0])}等{len(places)}处办理。"
        said = f"可到{short_place(places[0])}等{len(places)}处办理。"  # the voice gives its address: no list is heard
        return text, said if len(said) <= SPEECH_PLACE else text
    elif places:
        text = f"可到{short_place(places[0])}办理。"
    else:
        text = online_text(record) if can_do_online(record) else unstated("办理地点", record)
    return text, text


def _materials_lead(record: Record, *, marked: bool = False) -> str:
    if not record.materials:
        return unstated("申请材料", record)
    return f"需要准备{_first_materials(record, marked=marked)}{'材料' if len(record.materials) > 3 else ''}。"


def _overview_lead(record: Record, *, marked: bool = False) -> str:
    """A bare service name: whether it can be done online, how long it takes, what it costs and what to bring."""
    limit = spoken_duration(record.time_limit_promised or "")
    # "承诺即时办结。", not "承诺办结时限即时办结。"
    promised = "" if not limit else f"承诺{AT_ONCE}。" if limit == AT_ONCE else f"承诺办结时限{limit}。"
    if isinstance(record, Theme) and record.summary:
        # what it does together, in short (its items are listed below), then how long it takes
        return _whole_sentences(sentences(record.summary, 1), SUMMARY_LEAD) + promised
    parts = [online_said(record)] if can_do_online(record) is not None else []
    parts.append(promised)
    if record.fee:
        parts.append(f"收费标准：{sentence(clip(record.fee, 60))}")
    if record.materials:
        parts.append(_materials_lead(record, marked=marked))
    return "".join(parts) or _materials_lead(record, marked=marked)


def _shortened(lines: list[str], total: int, unit: str, keep: int = CARD_ITEMS) -> list[str]:
    """The first ``keep`` lines of a list; a longer list says it goes on: "等6项，详见完整指南。"."""
    if total <= keep:
        return lines
    return [*lines[:keep], f"等{total}{unit}，详见完整指南。"]


def _compact_card(record: Record, facets: Sequence[Facet], region: str | None, lead: str,
                  led: str | None, question: str, *, answered: bool = False,
                  whole_conditions: bool = False) -> list[str]:
    """What the question needs, a line each: a "how" question and an overview get materials, where, time limit,
    online and phone; a facet asked gets its field in full (a list still shortened); a question a passage has
    ``answered`` (a FAQ's "可以。…") who may apply, where, online and the phone; ``whole_conditions``: the
    受理条件 uncut. The rest of the guide is behind "查看完整指南"."""
    wanted: list[str] = [f for f in FACET_ORDER if f in facets]
    # "网上能签注吗" asks whether it can be done online (answered first), not for every hall: the place in a line
    full = set(facets) - ({"where"} if led == "online" else set())
    if answered and not facets:
        wanted = ["who", "where", "online", "phone"]
    elif not facets or "how" in facets:
        wanted = list(dict.fromkeys([*wanted, *([] if facets else ["who"]), "materials", "where", "time", "fee",
                                     "online", "phone"]))
    if "where" in facets:
        wanted.append("online")
    if led == "online":  # "能网上办吗", answered yes: where, right after the answer
        wanted = ["online", *wanted]
    lines: list[str] = []
    for part in dict.fromkeys(wanted):
        if part == led and part not in ("where", "materials", "online"):
            continue
        if part in _SAID_IN_LEAD.get(led or "", ()) and part not in full:
            continue
        if part == "materials" and record.materials:
            if "materials" in full:
                items = [f"{i}. {_card_material(m, question, record.name)}"
                         for i, m in enumerate(record.materials, start=1)]
                lines += ["**申请材料**", *_shortened(items, len(items), "项", 10)]
            elif led != "materials":
                lines.append(f"**申请材料**：{_materials_line(record)}")
        elif part == "how" and record.steps:  # the procedure asked for: each step, in short
            steps = [f"{i}. {clip(step, 40)}" for i, step in enumerate(record.steps, start=1)]
            lines += ["**办理流程**", *_shortened(steps, len(steps), "步")]
        elif part == "where":
            places = locations_for(record, region, question)
            if "where" in full:
                shown = [f"- {describe_location(loc)}" for loc in places]
                if places and (len(places) > 1 or part != led):
                    lines += ["**办理地点**", *_shortened(shown, len(shown), "处", 3)]
                note = place_note(record)
                if note:
                    lines.append(note)
            elif places and led != "where":
                more = f"等{len(places)}处" if len(places) > 1 else ""
                lines.append(f"**办理地点**：{_place_name(places[0])}{more}。")
        elif part == "who" and isinstance(record, ServiceGuide) and record.eligibility:
            limit = None if whole_conditions else 100 if len(set(wanted)) > 3 else 200
            if led == "clause":  # the sentence that answered leads: the others here, not it again
                rest = "".join(p for p in _condition_parts(record.eligibility) if _as_sentence(p) != lead)
                rest = rest.strip().rstrip("；;")  # the rest ends where the guide's did not: no "其余条件…未列出"
                if rest:
                    rest += "" if rest.endswith("。") else "。"
                    lines.append(f"**受理条件**：{conditions(record.model_copy(update={'eligibility': rest}), limit)}")
            else:
                lines.append(f"**受理条件**：{conditions(record, limit)}")
        elif part == "time":
            lines.append(f"**办理时限**：{_time_lead(record) if 'time' in full else _time_short(record)}")
        elif part == "fee":
            fee = sentence(clip(record.fee, CARD_FEE)) if record.fee else unstated("收费标准", record)
            lines.append(f"**收费标准**：{fee}")
        elif part == "online" and led in ("online", "overview"):
            if can_do_online(record) and record.online_url:
                lines.append(entry_link(record.online_url, entry_title(record)))
        elif part == "online" and online_said(record) not in lead:
            lines.append(f"{ONLINE_LINE}：{online_text(record)}")
        elif part == "phone" and record.consult_phone and record.consult_phone in lead:
            continue  # "指南未载明…，可致电 …咨询。" gave it already
        elif part == "phone":
            lines.append(f"**咨询电话**：{record.consult_phone}。" if record.consult_phone else phone_lines(record)[0])
        elif part == "result":
            lines += result_lines(record)
    return lines


ALSO_FEE = 40  # a fee said after the answer to another facet is cut here, at a clause
CARD_NOTE = 30  # a material's note a card lists is cut here, at a clause, unless the question speaks of it
CARD_FEE = 100  # a fee a card shows in a line is cut here, the rest in the full guide
# The fields an overview's lead says, which its card then leaves out (unless the question asks for them in full).
_SAID_IN_LEAD = {"overview": ("time", "fee", "materials"), "theme": ("time",)}


def _card_material(material: Material, question: str, name: str) -> str:
    """A material as a card lists it: its note cut to its first clauses within CARD_NOTE characters ("…"), whole when
    the question speaks of it ("宝宝太小拍不了照片咋办": the photo's note on a card without a photo); the full guide
    has every note whole."""
    text = describe_material(material)
    note = material.note or ""
    if len(note) <= CARD_NOTE or (_pairs(question) - _pairs(name)) & _pairs(note):
        return text
    return text[: len(text) - len(note)] + _whole_sentences(note, CARD_NOTE).rstrip("。") + "…"


def _materials_line(record: Record) -> str:
    return f"{_first_materials(record)}{'，详见完整指南' if len(record.materials) > 3 else ''}。"


def _first_materials(record: Record, *, marked: bool = False) -> str:
    """The first three materials by name, and how many there are when there are more: "甲、乙、丙等6项". ``marked``
    (for the voice, which has no list to show it): one the guide asks only in some cases says so, as its list does
    ("损坏的原居民身份证（非必需）")."""
    # a name as an export wrote it, with its own full stop ("…有金融功能的社会保障卡。"), ends without it in a list
    names = "、".join(f"{m.name.rstrip('。；;，, ')}{OPTIONAL if marked and not m.required else ''}"
                     for m in record.materials[:3])
    return f"{names}等{len(record.materials)}项" if len(record.materials) > 3 else names


def _place_name(loc: Location) -> str:
    """A place as a card line names it: the hall and its window; the address when it has no name."""
    return "".join(p for p in (loc.name, loc.window) if p) if loc.name else short_place(loc)


def _time_short(record: Record) -> str:
    """The time limit a citizen waits for: the promised one, else the legal one."""
    limit = record.time_limit_promised or (record.time_limit_legal if isinstance(record, ServiceGuide) else None)
    return f"{spoken_duration(limit)}。" if limit else unstated("办理时限", record)


def _compact_sections(record: Record, facets: Sequence[Facet]) -> list[str]:
    parts = [FACET_SECTIONS[f] for f in FACET_ORDER if f in facets]
    if not facets or "how" in facets:
        parts += ["materials", "locations", "time_fee", "steps", "contact"]
    return parts


def _compact_items(theme: Theme, names: dict[str, str]) -> list[str]:
    items = [f"{i}. {names.get(item, item)}" for i, item in enumerate(theme.items, start=1)]
    return ["**包含事项（按办理顺序）**", *items]


def _item_citation(item_id: str, names: dict[str, str]) -> Citation:
    return Citation(guide_id=item_id, section="name", title=names.get(item_id, item_id))
