"""The staff console (Gradio): the handoff desk, hit testing, the review of 差评 and the report."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from web.chat import CONCURRENT_EVENTS, as_chat

logger = logging.getLogger("banshi")


def knowledge_line(knowledge: Any) -> str:
    """What the assistant answers from, for staff: counts, the generation and when it was loaded."""
    from desk.types import BEIJING

    count = knowledge.assistant.index.count()
    status = knowledge.status()
    loaded = dt.datetime.fromisoformat(status["loaded_at"]).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    line = (f"知识库：{count['guides']} 项办事指南、{count['themes']} 个一件事"
            f"（版本 {status['generation'] or '未标记'}，{loaded} 载入）")
    if status["reload_error"]:
        line += f"\n知识库更新失败，仍在使用上一版：{status['reload_error']}"
    return line


def hit_testing_page(knowledge):  # type: ignore[no-untyped-def]
    """The console's 命中测试 tab: a question (and a region) in; the ranking, the decision and why out."""
    import gradio as gr

    from assistant.hittest import hit_test, region_choices, render_markdown
    from desk.types import MAX_QUESTION_CHARS

    gr.Markdown("输入群众可能问的话，查看检索到的办事指南、各项得分，以及智能助手会回答、反问还是拒答。")
    with gr.Row():
        question = gr.Textbox(label="问题", placeholder="例如：办居住证要带什么材料", scale=4, elem_id="hit-question")
        region = gr.Dropdown(choices=["不限", *region_choices(knowledge.assistant)], value="不限", label="地区",
                             scale=1, elem_id="hit-region")
        run = gr.Button("测试", variant="primary", scale=1, elem_id="hit-run")
    result = gr.Markdown(elem_id="hit-result", latex_delimiters=[])

    def test(text, place):  # type: ignore[no-untyped-def]
        text = (text or "").strip()
        if not text:
            return "请输入要测试的问题。"
        if len(text) > MAX_QUESTION_CHARS:
            return f"问题有 {len(text)} 字，最多 {MAX_QUESTION_CHARS} 字。"
        return render_markdown(hit_test(knowledge.assistant, text, region=None if place in (None, "不限") else place))

    run.click(test, [question, region], result)
    question.submit(test, [question, region], result)


def review_page(console, tab, desk, knowledge):  # type: ignore[no-untyped-def]
    """The console's 差评 tab: answers citizens rated down, newest first; one is saved as an evaluation case
    (``BANSHI_FEEDBACK_CASES``) or set aside, and is listed no more."""
    import gradio as gr

    from assistant.hittest import DECISIONS, region_choices
    from assistant.markup import as_text
    from desk.reviews import EXPECTS, CaseDraft, FeedbackReviews, ReviewError, parse_facts, parse_ids

    cases = knowledge.settings.feedback_cases_file()
    reviews = FeedbackReviews(desk.sessions, cases, clock=desk.clock)
    gr.Markdown(f"群众点了“踩”的回答，最新的在前。点一行查看，可存为评测用例（存入 <code>{as_text(str(cases))}</code>，"
                "用 banshi eval 运行），或标为无需处理；处理过的不再列出。")
    listed = gr.State([])
    chosen = gr.State(None)
    table = gr.Dataframe(headers=["编号", "时间", "差评原因", "问题", "智能助手的处理"], interactive=False,
                         label="待处理的差评（点一行查看）", elem_id="disliked")
    refresh = gr.Button("刷新", elem_id="disliked-refresh")
    with gr.Group():
        reason = gr.Textbox(label="差评原因", interactive=False, elem_id="disliked-reason")
        answer = gr.Textbox(label="智能助手的回答", lines=6, max_lines=12, interactive=False, elem_id="disliked-answer")
        question = gr.Textbox(label="问题（可修改）", elem_id="case-question")
        with gr.Row():
            ids = gr.Textbox(label="预期指南编号（多个用空格或逗号分开）", scale=2, elem_id="case-ids")
            expect = gr.Radio([(label, key) for key, label in EXPECTS.items()], value="answer", label="预期处理",
                              scale=2, elem_id="case-expect")
            region = gr.Dropdown(["不限", *region_choices(knowledge.assistant)], value="不限", label="地区", scale=1,
                                 elem_id="case-region")
        facts = gr.Textbox(label="预期要点（每行一条，正确的回答应包含）", lines=3, elem_id="case-facts")
    with gr.Row():
        save = gr.Button("存为评测用例", variant="primary", elem_id="case-save")
        skip = gr.Button("无需处理", elem_id="case-skip")
    status = gr.Markdown(elem_id="case-status")
    form = [chosen, reason, answer, question, ids, expect, region, facts]

    def shown(disliked):  # type: ignore[no-untyped-def]
        names = knowledge.assistant.names
        decision = DECISIONS.get(disliked.decision or "", "—")
        return [disliked.feedback_id, f"{disliked.rated_at.astimezone(desk.tz):%m-%d %H:%M}", disliked.reason or "",
                disliked.question, decision + "".join(f"：{names.get(i, i)}" for i in disliked.cited[:1])]

    def show_list():  # type: ignore[no-untyped-def]
        found = reviews.disliked()
        return [shown(d) for d in found], found

    def empty_form():  # type: ignore[no-untyped-def]
        return None, "", "", "", "", "answer", "不限", ""

    def pick(event: gr.SelectData, found):  # type: ignore[no-untyped-def]
        number = str((event.row_value or [""])[0]).strip()
        disliked = next((d for d in found if str(d.feedback_id) == number), None)
        if disliked is None:
            return (*(gr.skip(),) * len(form), gr.skip())
        said = f"已选差评 {disliked.feedback_id}（渠道 {as_text(disliked.channel)}）。" + (
            f"存为用例时带上此前的 {len(disliked.history)} 条对话。" if disliked.history else "")
        return (disliked, disliked.reason or "（未填写）", disliked.answer, disliked.question,
                " ".join(disliked.cited), "answer", disliked.region or "不限", "", said)

    def done(said):  # type: ignore[no-untyped-def]
        return (*show_list(), *empty_form(), said)  # the one reviewed is listed no more

    def refused(why):  # type: ignore[no-untyped-def]
        return (*(gr.skip(),) * (len(form) + 2), as_text(why))  # the form stays to correct; why may quote it

    def save_case(disliked, text, typed_ids, expected, place, typed_facts, request: gr.Request):  # type: ignore[no-untyped-def]
        if disliked is None:
            return refused("请先在上面的列表中点一行。")
        draft = CaseDraft(text or "", parse_ids(typed_ids), parse_facts(typed_facts), expected,
                          region=None if place in (None, "不限") else place, channel=disliked.channel,
                          history=disliked.history)
        try:
            case_id = reviews.save_case(disliked.feedback_id, draft, request.username or "agent",
                                        knowledge.assistant.names)
        except ReviewError as err:
            return refused(str(err))
        return done(f"已存为评测用例 {case_id}。")

    def set_aside(disliked, request: gr.Request):  # type: ignore[no-untyped-def]
        if disliked is None:
            return refused("请先在上面的列表中点一行。")
        try:
            reviews.set_aside(disliked.feedback_id, request.username or "agent")
        except ReviewError as err:
            return refused(str(err))
        return done(f"差评 {disliked.feedback_id} 已标为无需处理。")

    for handler in (save_case, set_aside):
        handler.__annotations__["request"] = gr.Request  # found by type; postponed annotations hide it
    pick.__annotations__["event"] = gr.SelectData
    console.load(show_list, None, [table, listed])
    tab.select(show_list, None, [table, listed])
    refresh.click(show_list, None, [table, listed])
    table.select(pick, [listed], [*form, status])
    save.click(save_case, [chosen, question, ids, expect, region, facts], [table, listed, *form, status])
    skip.click(set_aside, [chosen], [table, listed, *form, status])


def build_agent_console(desk, knowledge=None):  # type: ignore[no-untyped-def]
    """The staff console: the handoff desk and, with ``knowledge`` (a KnowledgeWatcher), hit testing and the
    review of 差评."""
    import gradio as gr

    from desk.types import REASONS, ClaimConflictError, DeskError

    with gr.Blocks(title="办事 · 工作人员工作台") as console:
        current = gr.State(None)
        gr.Markdown("## 工作人员工作台")
        with gr.Tabs():
            with gr.Tab("转人工", id="desk"):
                gr.Markdown("等待中的转人工会话。认领后可查看对话记录和智能助手检索到的内容，并直接回复群众。")
                queue = gr.Dataframe(headers=["编号", "渠道", "原因", "等待(秒)", "最后的问题"], interactive=False,
                                     label="等待队列（点一行即可认领）", elem_id="queue")
                left = gr.Dataframe(headers=["编号", "留言编号", "渠道", "登记时间", "最后的问题"], interactive=False,
                                    label="无人在线时登记的留言（点一行即可认领，在对话中回复）", elem_id="left")
                mine = gr.Dataframe(headers=["编号", "渠道", "原因", "最后的问题"], interactive=False,
                                    label="我正在处理的会话（点一行即可打开继续处理）", elem_id="mine")
                with gr.Row():
                    claim_id = gr.Number(label="要认领的编号", precision=0, elem_id="claim-id")
                    claim = gr.Button("认领", elem_id="claim")
                    claim_next = gr.Button("认领等待最久的", variant="primary", elem_id="claim-next")
                notice = gr.Markdown(elem_id="notice")
                transcript = gr.Chatbot(label="对话记录", height=360, elem_id="transcript")
                retrieved = gr.Markdown(label="智能助手检索到的内容", elem_id="retrieved")
                with gr.Row():
                    reply = gr.Textbox(placeholder="回复群众……", show_label=False, scale=5, elem_id="reply")
                    send = gr.Button("发送", variant="primary", scale=1, elem_id="reply-send")
                with gr.Row():
                    back = gr.Button("交回智能助手", elem_id="hand-back")
                    close = gr.Button("结束会话", variant="stop", elem_id="close")
                with gr.Accordion("统计（近 7 天）", open=False):
                    stats = gr.Textbox(show_label=False, lines=14, interactive=False, elem_id="stats")
                    stats_refresh = gr.Button("刷新统计", elem_id="stats-refresh")
            if knowledge is not None:
                with gr.Tab("命中测试", id="hits"):
                    hit_testing_page(knowledge)
                with gr.Tab("差评", id="reviews") as reviews_tab:
                    review_page(console, reviews_tab, desk, knowledge)
        timer = gr.Timer(2.0)

        def statistics():  # type: ignore[no-untyped-def]
            since = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
            text = report_text(desk.report(since), 7)
            return f"{knowledge_line(knowledge)}\n{text}" if knowledge is not None else text

        stats_refresh.click(statistics, None, stats)

        def view(conversation_id):  # type: ignore[no-untyped-def]
            if not conversation_id:
                return [], ""
            history = []
            cited = []
            for message in desk.messages(conversation_id):
                history.append(as_chat(message, bot_label="【智能助手】"))
                for c in (message.get("detail") or {}).get("citations", []):
                    cited.append(f"- {c['title']}（{c['guide_id']}，{c['section']}）")
            return history, "**智能助手检索到的内容**\n" + "\n".join(dict.fromkeys(cited)) if cited else ""

        def refresh(conversation_id, request: gr.Request):  # type: ignore[no-untyped-def]
            desk.heartbeat(request.username or "agent")
            rows = [[e.handoff_id, e.channel, REASONS.get(e.reason, e.reason), e.waiting_seconds, e.last_question]
                    for e in desk.queue()]
            now = dt.datetime.now(desk.tz)
            left_rows = [[e.handoff_id, e.ticket, e.channel,
                          f"{now - dt.timedelta(seconds=e.waiting_seconds):%m-%d %H:%M}", e.last_question]
                         for e in desk.queue(left=True)]
            my_rows = [[e.handoff_id, e.channel, REASONS.get(e.reason, e.reason), e.last_question]
                       for e in desk.mine(request.username or "agent")]
            history, cited = view(conversation_id)
            return rows, left_rows, my_rows, history, cited

        def take(handoff_id, request: gr.Request):  # type: ignore[no-untyped-def]
            number = int(handoff_id or 0)
            try:
                conversation_id = desk.claim(number, request.username or "agent")
            except ClaimConflictError:
                return gr.skip(), f"无法认领：编号 {number} 已由其他工作人员处理或已结束。"
            except DeskError:
                return gr.skip(), f"无法认领：没有编号为 {number} 的转人工请求。"
            return conversation_id, f"已认领编号 {number} 的会话，可以回复了。"

        def take_next(request: gr.Request):  # type: ignore[no-untyped-def]
            """The conversation waiting longest; with nobody waiting, the oldest request left (留言)."""
            oldest = next(iter(desk.queue() or desk.queue(left=True)), None)
            if oldest is None:
                return gr.skip(), "没有等待的会话，也没有留言。"
            conversation_id, said = take(oldest.handoff_id, request)
            if oldest.ticket and said.startswith("已认领"):
                said = f"已认领留言 {oldest.ticket}（编号 {oldest.handoff_id}），回复会留在对话中。"
            return conversation_id, said

        def take_row(event: gr.SelectData, request: gr.Request):  # type: ignore[no-untyped-def]
            """A click on a row of the queue, the 留言 or one's own conversations claims (or opens) it."""
            number = str((event.row_value or [""])[0]).strip()
            return take(int(number), request) if number.isdigit() else (gr.skip(), gr.skip())

        def answer(conversation_id, text, request: gr.Request):  # type: ignore[no-untyped-def]
            if not (text or "").strip():
                return gr.skip(), "未发送：回复内容为空。"
            try:
                desk.reply(conversation_id or "", request.username or "agent", text or "")
            except DeskError:
                return gr.skip(), "未发送：您当前没有在处理的会话（可能已结束或已交回）。请先认领。"
            return "", "已发送"

        def end(conversation_id, request: gr.Request, how: str):  # type: ignore[no-untyped-def]
            try:
                (desk.hand_back if how == "back" else desk.close)(conversation_id or "", request.username or "agent")
            except DeskError:
                return gr.skip(), "操作失败：您当前没有在处理的会话。"
            return None, "已交回智能助手" if how == "back" else "会话已结束"

        def hand_back(conversation_id, request: gr.Request):  # type: ignore[no-untyped-def]
            return end(conversation_id, request, "back")

        def close_it(conversation_id, request: gr.Request):  # type: ignore[no-untyped-def]
            return end(conversation_id, request, "close")

        for handler in (refresh, take, take_next, take_row, answer, hand_back, close_it):
            handler.__annotations__["request"] = gr.Request  # found by type; postponed annotations hide it
        take_row.__annotations__["event"] = gr.SelectData
        timer.tick(refresh, [current], [queue, left, mine, transcript, retrieved])
        console.load(refresh, [current], [queue, left, mine, transcript, retrieved])
        console.load(statistics, None, stats)  # filled when the page opens; 刷新统计 brings it up to date
        claim.click(take, [claim_id], [current, notice])
        claim_next.click(take_next, None, [current, notice])
        for table in (queue, left, mine):
            table.select(take_row, None, [current, notice])
        send.click(answer, [current, reply], [reply, notice])
        reply.submit(answer, [current, reply], [reply, notice])
        back.click(hand_back, [current], [current, notice])
        close.click(close_it, [current], [current, notice])
    return console.queue(default_concurrency_limit=CONCURRENT_EVENTS)


def report_text(report: dict[str, Any], days: int) -> str:
    """The staff report (``Desk.report``) as plain lines, for the terminal and the console's 统计 panel."""
    from desk.types import BEIJING

    since = dt.datetime.fromisoformat(report["since"]).astimezone(BEIJING)
    decisions, handoffs = report["decisions"], report["handoffs"]
    lines = [
        f"近 {days} 天（自 {since:%Y-%m-%d %H:%M} 起，北京时间）",
        f"会话 {report['conversations']} 个（" + ("，".join(f"{k} {v}" for k, v in report["channels"].items()) or "无")
        + f"），提问 {report['questions']} 条",
        f"智能助手的答复（按条）：回答 {decisions.get('answer', 0)}，反问 {decisions.get('clarify', 0)}，"
        f"未能回答 {decisions.get('refuse', 0)}，转人工 {decisions.get('handoff', 0)}"
        + (f"，寒暄 {decisions['chat']}" if decisions.get("chat") else ""),
        f"转人工请求 {sum(handoffs.values())} 个（含群众点“转人工”按钮和智能助手转出，按当前状态）：" + ("，".join(
            f"{_HANDOFF_STATES.get(k, k)} {v}" for k, v in handoffs.items()) or "无"),
        f"评价：好评 {report['ratings']['up']}，差评 {report['ratings']['down']}",
    ]
    for title, rows, show in (
            ("最常引用的办事指南", report["top_guides"], lambda r: f"{r[1]:>4}  {r[0]}"),
            ("未能回答的问题（可据此补充指南或同义词）", report["unanswered"], lambda r: f"{r[1]:>4}  {r[0]}"),
            ("差评", report["rated_down"],
             lambda r: f"  {r['question'] or '（无问题）'} → {r['guide'] or r['decision'] or '—'}"
                       + (f"（{r['reason']}）" if r["reason"] else ""))):
        if rows:
            lines += ["", f"{title}：", *(show(row) for row in rows)]
    return "\n".join(lines)


_HANDOFF_STATES = {"waiting": "等待中", "claimed": "处理中", "returned": "已交回", "closed": "已结束",
                   "callback": "留言待处理", "withdrawn": "群众已离开"}
