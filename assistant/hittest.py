"""Hit testing (命中测试) for staff: what the search ranks for a question, and what the assistant would do.

The real search (as ``banshi search``) and the real assistant pipeline on a fresh dialogue (as ``banshi ask``),
with the reason it answers, asks back or refuses. :func:`render_markdown` shows the result in the staff
console; every text in it, typed by staff or taken from a guide, is shown as text, never read as markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.answer import Answer
from assistant.chain import build_chain
from assistant.fields import item_key
from assistant.hits import Filters, Retrieval
from assistant.markup import as_text
from assistant.places import place_elsewhere
from assistant.service import Assistant
from assistant.session import Session
from assistant.turn import SURE
from knowledge.records import SECTIONS

DECISIONS = {"answer": "回答", "clarify": "反问", "refuse": "拒答", "handoff": "转人工", "chat": "寒暄"}
HANDOFF_REASONS = {"requested": "群众要求转人工。", "complaint": "识别为投诉、举报或申诉，交工作人员处理。",
                   "repeated_failure": "连续两次未能解答，转人工。"}
CHUNK_CHARS = 160  # of a matched chunk shown in the table; the rest is cut with "…"
_NUMBER = "white-space:nowrap;text-align:right"  # a score stays on one line
_BELOW = "#b45309"  # a hit below the refusal threshold is marked in amber


@dataclass(frozen=True)
class HitTest:
    question: str
    region: str | None
    retrieval: Retrieval  # the ranking, as ``banshi search`` shows it
    answer: Answer  # what the assistant answers on a fresh dialogue
    threshold: float  # the confidence below which the first guide is not trusted
    reason: str  # why the answer's decision, in a sentence or two for staff


def hit_test(assistant: Assistant, question: str, *, region: str | None = None, k: int = 5) -> HitTest:
    """Search and answer ``question`` (in ``region``: the guides of that region, its parents and children).

    Raises ValueError for an empty question or ``k`` below 1."""
    question = question.strip()
    if not question:
        raise ValueError("the question is empty")
    retrieval = assistant.search.search(question, k=k, filters=Filters(region=region))
    session = Session(channel="console", region=region)
    answer = build_chain(assistant).invoke({"question": question, "session": session, "hall_id": None})
    threshold = assistant.search.calibration.refuse_below
    elsewhere = place_elsewhere(question, assistant.areas, assistant.places)
    reason = decision_reason(answer, session, retrieval, threshold, assistant.names,
                             elsewhere.name if elsewhere else None)
    return HitTest(question, region, retrieval, answer, threshold, reason)


def region_choices(assistant: Assistant) -> list[str]:
    """The regions a hit test can be limited to: the packs' areas, the guides' regions and the halls' districts."""
    guides = {c.region for c in assistant.search.chunks if c.region}
    return sorted(guides | set(assistant.areas) | set(assistant.region_names.values()))


def decision_reason(answer: Answer, session: Session, retrieval: Retrieval, threshold: float,
                    names: dict[str, str], elsewhere: str | None = None) -> str:
    """Why the assistant decided as it did, from its answer, the dialogue state it left and the ranking."""
    if answer.decision == "answer" and answer.citations:
        cited = answer.citations[0]
        ranks = [h.record_id for h in retrieval.hits]
        rank = f"（检索排名第 {ranks.index(cited.guide_id) + 1}，按问题的用词选定）" \
            if cited.guide_id in ranks[1:] else ""
        name = names.get(cited.guide_id, cited.title)
        reason = (f"置信度 {answer.confidence:.2f}，不低于拒答阈值 {threshold:.2f}："
                  f"按“{name}”（{cited.guide_id}）回答{rank}。")
    elif answer.decision == "clarify":
        items = {item_key(names.get(i, i)) for i in session.options}
        if session.options and len(items) == 1 and len(session.options) > 1:
            reason = f"“{items.pop()}”由各地分别办理，问题没有说在哪里办：先问在哪里办理。"
        elif session.options:
            options = "、".join(f"“{names.get(i, i)}”" for i in session.options)
            reason = f"{len(session.options)} 项指南得分接近，无法确定是哪一项：{options}，请群众选择。"
        elif session.region_options and session.record_id:
            name = names.get(session.record_id, session.record_id)
            reason = f"问的是在哪办，“{name}”各区办理地点不同：先问在哪个区。"
        elif session.awaiting_topic:
            reason = "问题没有说要办哪项业务：先问是哪一项。"
        else:
            reason = "需要群众补充说明。"
    elif answer.decision == "refuse":
        if retrieval.unmatched:
            reason = f"知识库中没有问题所说的“{retrieval.unmatched[0]}”。"
        elif not retrieval.hits:
            reason = "没有找到任何相关的办事指南。"
        elif retrieval.confidence < threshold:
            reason = f"置信度 {retrieval.confidence:.2f}，低于拒答阈值 {threshold:.2f}：没有把握，不作回答。"
        else:
            reason = "找到的指南回答不了这个问题。"
    elif answer.decision == "handoff":
        reason = HANDOFF_REASONS.get(answer.handoff_reason or "", f"转人工（{answer.handoff_reason}）。")
    elif answer.decision == "chat":
        reason = "问候、致谢等寒暄，不查找指南。"
    else:
        reason = ""
    if elsewhere:
        reason += f"问题提到的{elsewhere}不在知识库的范围内，只作参考。"
    elif answer.reference_only:
        reason += f"群众讲述了具体情况，置信度低于 {SURE:.2f}：指南只作参考。"
    return reason


def render_markdown(test: HitTest) -> str:
    """The console's view: the decision and its reason, the ranking with every score, the answer itself.
    A hit below the refusal threshold is marked. Every text is escaped (see :func:`as_text`)."""
    retrieval, answer = test.retrieval, test.answer
    expanded = f"（补充检索词：{' '.join(retrieval.query.expansions)}）" if retrieval.query.expansions else ""
    cited = "、".join(dict.fromkeys(c.guide_id for c in answer.citations))
    decision = DECISIONS.get(answer.decision, answer.decision)
    figures = (f"置信度 {retrieval.confidence:.2f}，与第二名差 {retrieval.margin + 0.0:.2f}，"
               f"词覆盖 {retrieval.coverage:.2f}，拒答阈值 {test.threshold:.2f}，"
               f"检索用时 {retrieval.seconds * 1000:.0f} ms")
    lines = [
        f"<p><b>问题</b>：{as_text(test.question + expanded)}　<b>地区</b>：{as_text(test.region or '不限')}</p>",
        f"<p><b>处理</b>：<b>{as_text(decision)}</b>　<b>原因</b>：{as_text(test.reason)}</p>",
        f"<p>{figures}" + (f"；回答引用 {as_text(cited)}" if cited else "") + "</p>",
    ]
    if retrieval.hits:
        number = f"<th style='{_NUMBER}'>"
        lines.append(f"<table><thead><tr>{number}名次</th><th style='min-width:10em'>办事指南</th>{number}融合得分</th>"
                     f"{number}BM25</th>{number}向量</th>{number}置信度</th><th>命中段落</th></tr></thead><tbody>")
        for rank, hit in enumerate(retrieval.hits, start=1):
            text = hit.chunk.text if len(hit.chunk.text) <= CHUNK_CHARS else hit.chunk.text[:CHUNK_CHARS] + "…"
            mark = f"<br><b style='color:{_BELOW}'>低于阈值</b>" if hit.confidence < test.threshold else ""
            lines.append(
                f"<tr><td style='{_NUMBER}'>{rank}</td>"
                f"<td>{as_text(hit.name)}<br><code>{as_text(hit.record_id)}</code></td>"
                f"<td style='{_NUMBER}'>{hit.score:.3f}</td><td style='{_NUMBER}'>{hit.lexical:.2f}</td>"
                f"<td style='{_NUMBER}'>{hit.dense:.3f}</td><td style='{_NUMBER}'>{hit.confidence:.2f}{mark}</td>"
                f"<td><b>{as_text(SECTIONS.get(hit.chunk.section, hit.chunk.section))}</b>：{as_text(text)}</td></tr>")
        lines.append("</tbody></table>")
    else:
        lines.append("<p>没有找到相关的办事指南。</p>")
    lines.append(f"<details><summary>智能助手的回答（{DECISIONS.get(answer.decision, '')}）</summary>"
                 f"<p>{as_text(answer.text)}</p></details>")
    return "\n".join(lines)
