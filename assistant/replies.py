"""Every reply that is not an answer from a guide: a question back (which service, which region, which district),
the notes on a reference answer, small talk, a refusal and a handoff."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answer import Answer, Citation
from assistant.compose import ASKS_WHEN, SOURCE, TIP, UNSURE, closed_days
from assistant.fields import (
    MAX_SPEECH,
    Record,
    card,
    citation,
    clip,
    item_key,
    spoken_name,
    without_brackets,
)
from assistant.intent import HOTLINE, Facet, SmallTalk
from knowledge.schema import Hall, ServiceGuide

HOTLINE_CHIP = "12345热线"  # the chip a refusal offers; sent back as a message, it is answered with the hotline


HANDOFF_CHIP = "转人工"


def compose_progress(record: Record | None) -> Answer:
    """"办到哪一步了": the assistant answers from guides and cannot see anyone's application; who can."""
    if record is not None and record.consult_phone:
        where = f"请致电{record.name}的咨询电话 {record.consult_phone} 查询，也可以转人工服务。"
        citations = [citation(record, "name"), citation(record, "contact")]
    else:
        where = f"请拨打 {HOTLINE} 政务服务便民热线查询，也可以转人工服务。"
        citations = []
    text = f"我根据办事指南解答问题，无法查询个人的办件进度。{where}"
    return Answer(text=text, speech=clip(text, MAX_SPEECH), decision="answer" if citations else "refuse",
                  citations=citations, suggestions=next_steps(hotline=not citations),
                  confidence=1.0 if citations else 0.0)


def next_steps(*, hotline: bool = True) -> list[str]:
    """The chips of a reply that cannot help: a person, and the 12345 hotline unless the citizen has called it."""
    return [HANDOFF_CHIP, *([HOTLINE_CHIP] if hotline else [])]


def compose_clarify(options: Sequence[Record], confidence: float = 0.0, *, again: bool = False,
                    wanted: Sequence[Facet] = ()) -> Answer:
    """Ask which of several close guides is meant; the options are the suggestions. ``again``: asked again after a
    reply that picked none of them ("第五个" of four), which says how many there are. ``wanted``: asked again
    after a question for these fields that picked none of them ("在哪办"), which says why the choice comes first
    and offers a person, as the citizen may not know which one they need."""
    labels = [_option_label(r, options) for r in options]
    numbered = [f"{i}. {label}" for i, label in enumerate(labels, 1)]
    asked = "、".join(_TOPIC_WORDS[f] for f in wanted if f in _TOPIC_WORDS)
    why = f"这几项的{asked}要看您具体办哪一项，" if asked else ""
    head = f"可选的共有{len(options)}项，请回复序号（1至{len(options)}）或名称：" if again else \
        f"{why}请回复序号或名称：" if why else "您想办理的是哪一项？请回复序号或名称："
    text = "\n".join([head, *numbered])
    # said once each, whoever publishes it (the screen tells them apart); the rest are on screen
    items: dict[str, str] = {}
    for record in options:
        items.setdefault(item_key(record.name), record.name)
    spoken = list(items.values())
    speech = _spoken_options(spoken[:3])
    more = f"屏幕上共有{len(spoken)}项可选。" if len(spoken) > 3 else ""  # the fourth is not said, so say there is one
    speech = speech + more if len(speech) + len(more) <= MAX_SPEECH else clip(speech, MAX_SPEECH)
    if why and len(why) + len(speech) <= MAX_SPEECH:
        speech = f"{why.rstrip('，')}。{speech}"
    if why:
        labels = [*labels, "转人工"]
    return Answer(text=text, speech=speech, decision="clarify", suggestions=labels,
                  citations=[citation(r, "name") for r in options], confidence=confidence)


def _spoken_options(names: Sequence[str]) -> str:
    """A clarifying question as said aloud: what the options share once, then what tells them apart, without
    the brackets no one reads out ("律师执业变更审核", "律师执业注销" → "…律师执业的哪一项：变更审核，还是注销？")."""
    said = [spoken_name(without_brackets(name)) or spoken_name(name) for name in names]
    main = None
    if len(set(said)) < len(said):  # the brackets were what told them apart: their words, without the brackets
        # the bracket's words whole: "实验动物生产许可(新申请)" is said "…新申请", not "…新"
        heads = [re.split(r"[(（]", name, maxsplit=1)[0] for name in names]
        said = [spoken_name(head) + re.sub(r"[()（）]", "", name[len(head):])
                for head, name in zip(heads, names, strict=True)]
        main = min(len(head) for head in heads)  # what they share ends there
    prefix = _common_prefix(said)[:main] if len(said) > 1 else ""
    if len(prefix) >= SHARED and all(len(s) - len(prefix) >= 2 for s in said):
        tails = _told_apart([s[len(prefix):] for s in said], prefix)
        return f"请问您要办的是{prefix}的哪一项：" + "，还是".join(tails) + "？"
    return "请问您要办理的是：" + "，还是".join(said) + "？"


SHARED = 4  # words every option says, this long, are said once (or, within what tells them apart, not at all)


def _told_apart(tails: list[str], shared: str) -> list[str]:
    """What tells options apart, without the words all of them repeat at its start, or at its end when the
    name they share (``shared``) says them already:
    "二级注册结构工程师个人姓名变更", "二级注册结构工程师重新注册" → "个人姓名变更", "重新注册";
    "对支队作出的一般火灾事故认定的复核", "…重大…" of 火灾事故认定复核 → "一般", "重大".
    Shorter repeats ("执业类别变更", "执业机构变更") stay, and so does an end the shared name lacks
    ("信息查询")."""
    head = _common_prefix(tails)
    if len(head) >= SHARED and all(len(t) - len(head) >= 2 for t in tails):
        tails = [t[len(head):] for t in tails]
    tail = _common_prefix([t[::-1] for t in tails])[::-1]
    if len(tail) >= SHARED and set(tail) - set("的之") <= set(shared) and all(len(t) - len(tail) >= 2 for t in tails):
        tails = [t[:-len(tail)] for t in tails]
    return tails


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
    speech = f"{spoken_name(name)}各地分别办理，请问您在哪里办？比如{'、'.join(short[:3])}。"
    return Answer(text=text, speech=clip(speech, MAX_SPEECH), decision="clarify", suggestions=shown,
                  citations=[citation(options[0], "name")], confidence=confidence)


MAX_REGIONS_SHOWN = 8  # regions named when asking where an item is to be done; the rest are "等N地"


def _option_label(record: Record, options: Sequence[Record]) -> str:
    same = [o for o in options if item_key(o.name) == item_key(record.name)]
    if len(same) > 1:  # the same item at two levels: tell them apart by region and department
        where = record.region or ""
        return f"{record.name}（{where}{'，' + record.department if record.department else ''}）" \
            if isinstance(record, ServiceGuide) else f"{record.name}（{where}）"
    return record.name


def compose_district_question(record: Record, districts: Sequence[str]) -> Answer:
    prefix = _common_prefix(districts)
    short = [d[len(prefix):] or d for d in districts]
    text = f"**{record.name}**按所在区办理，各区地点不同。请问您在哪个区？" + "、".join(short)
    speech = f"{spoken_name(record.name)}按区办理，请问您在{'还是'.join(short)}？"
    return Answer(text=text, speech=clip(speech, MAX_SPEECH),
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
    return answer.model_copy(update={"text": text, "speech": clip(speech, MAX_SPEECH),
                                     "reference_only": answer.decision == "answer"})


def note_alike(answer: Answer, others: Sequence[Record]) -> Answer:
    """The answer holds word for word for other guides the question may mean: say so after it, and cite them."""
    names = "、".join(f"“{r.name}”" for r in others)
    lines = answer.text.split("\n")
    after = (TIP, UNSURE, SOURCE)  # the answer's own lines end where these begin
    at = next((i for i, line in enumerate(lines) if line.startswith(after)), len(lines))
    while at > 0 and not lines[at - 1].strip():
        at -= 1
    lines[at:at] = ["", f"以上内容同样适用于{names}。"]  # a paragraph of its own, not a list's last item
    return answer.model_copy(update={"text": "\n".join(lines),
                                     "citations": [*answer.citations, *(citation(r, "name") for r in others)]})


def note_story_unsure(answer: Answer, phone: str | None) -> Answer:
    """A long message that tells a situation, answered from a guide found with modest confidence: the guide is
    shown as the nearest one, for reference, with whom to ask whether it fits (not as the citizen's answer)."""
    ask = f"请致电 {phone} 或转人工服务确认" if phone else f"请拨打 {HOTLINE} 或转人工服务确认"
    line = f"以下指南与您的情况不一定相符，仅供参考；是否适用，{ask}。"
    suggestions = [*[s for s in answer.suggestions if s != HANDOFF_CHIP][:2], HANDOFF_CHIP]
    return answer.model_copy(update={"text": f"{line}\n\n{answer.text}",
                                     "speech": clip(f"以下指南仅供参考。{answer.speech}", MAX_SPEECH),
                                     "reference_only": True, "suggestions": suggestions})


PRIVACY = "为保护您的个人信息，请不要在这里发送身份证号、手机号或银行卡号。"


def note_personal(answer: Answer) -> Answer:
    """A message that gave a personal number with its question (the number was never kept): the answer ends with a
    word on not sending such numbers here."""
    text, at = answer.text, answer.text.rfind(f"\n\n{SOURCE}")
    line = f"{TIP}{PRIVACY}"
    text = f"{text[:at]}\n\n{line}{text[at:]}" if at >= 0 else f"{text}\n\n{line}"  # above the source line
    return answer.model_copy(update={"text": text})


def compose_small_talk(kind: SmallTalk) -> Answer:
    """A greeting, thanks, goodbye or "你是谁": a short polite reply that cites nothing and changes nothing."""
    text = _SMALL_TALK_REPLIES[kind]
    return Answer(text=text, speech=clip(text, MAX_SPEECH), decision="chat", confidence=1.0,
                  suggestions=[HANDOFF_CHIP] if kind == "hotline" else [])


def compose_refusal(named: str | None = None, *, hotline: bool = True) -> Answer:
    """No guide fits. ``named``: the thing the question names that no guide found speaks of ("药品经营许可证"),
    said back so the citizen knows it was understood and is simply not in the knowledge. ``hotline``: offer
    the 12345 hotline (not to a citizen who has already called it)."""
    call = f"拨打 {HOTLINE} 政务服务便民热线咨询，也可以" if hotline else ""
    said = f"拨打{HOTLINE}，或" if hotline else ""
    if named:
        text = f"抱歉，我这里暂未收录“{named}”的办事指南，无法为您解答。您可以{call}转人工服务。"
        speech = f"抱歉，我这里暂未收录{named}的办事指南，您可以{said}转人工服务。"
        return Answer(text=text, speech=speech, decision="refuse", suggestions=next_steps(hotline=hotline))
    text = ("抱歉，我没有找到与您的问题相符的办事指南。我可以回答政务服务事项谁能办、在哪办、如何办，"
            f"您可以换个说法再问，或{call}转人工服务。")
    return Answer(text=text, speech="抱歉，我没有找到相关的办事指南，您可以换个说法，或转人工服务。",
                  decision="refuse", suggestions=next_steps(hotline=hotline))


def compose_not_chinese(*, hotline: bool = True) -> Answer:
    """A message in another language ("How do I renew my ID card?"): the guides, and the answers, are in Chinese."""
    text = ("抱歉，我目前只能用中文解答政务服务问题，请用中文提问，也可以转人工服务。"
            "Sorry, I can only answer questions in Chinese. Please ask in Chinese, or ask for a person (转人工).")
    return Answer(text=text, speech="抱歉，我目前只能用中文解答，请用中文提问，或转人工服务。", decision="refuse",
                  suggestions=next_steps(hotline=hotline))


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
    return answer.model_copy(update={"text": text, "speech": clip(text, MAX_SPEECH)})


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
    return Answer(text=text, speech=clip(text, MAX_SPEECH), decision="handoff", handoff_reason=reason)


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
    "personal": (f"{PRIVACY}我根据办事指南解答问题，"
                 "无法查询个人的办件情况。请问您要办理什么业务？"),
}


def compose_hall(hall: Hall, facets: Sequence[Facet], question: str) -> Answer:
    """Where, when and which phone of a hall itself ("你们政务中心几点下班"), from what the pack says of it: the
    hours first when asked when (a word of time or of opening), else the address; what the pack does not say, said
    so with the hotline."""
    hours = f"办理时间：{hall.hours.rstrip('。；')}。" if hall.hours else "办理时间未载明。"
    closed = closed_days(hall.hours, question) if hall.hours else ""  # "你们周六开门吗": not then, and when
    if closed:
        hours = f"{closed}不在办理时间内，{hours}"
    where = f"地址：{hall.address}。" if hall.address else "地址未载明。"
    phone = f"咨询电话：{hall.phone}。" if hall.phone else f"咨询电话未载明，可拨打 {HOTLINE} 政务服务便民热线。"
    when = any(word in question for word in ASKS_WHEN)  # "几点下班", "周六开门吗": its hours lead
    lines = [hours, where] if when or "where" not in facets else [where, hours]
    if "phone" in facets:
        lines = [phone, *lines]
    else:
        lines.append(phone)
    text = f"**{hall.name}**：{lines[0]}\n" + "\n".join(lines[1:])
    speech = clip(f"{hall.name}{lines[0].replace('：', '是', 1)}" if closed and lines[0] == hours else
                  f"{hall.name}的{lines[0].replace('：', '是', 1)}", MAX_SPEECH)
    return Answer(text=text, speech=speech, decision="answer", confidence=1.0,
                  citations=[Citation(guide_id=hall.id, section="hall", title=hall.name)])
