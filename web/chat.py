"""The citizen chat page (Gradio): one conversation per browser, kept as a signed token in its storage."""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from assistant.markup import literal

logger = logging.getLogger("banshi")

CONCURRENT_EVENTS = 8  # chat events of one kind handled at once (answers wait mostly on the database or an LLM)

# 👍/👎 rate the bot: none under an agent's reply ("**工作人员…**：…") or a note in italics ("_…_"). Gradio gives
# every assistant bubble the buttons, and labels each with its raw text.
CHAT_CSS = """
#chat .message-row:has([aria-label^="bot's message: **工作人员"], [aria-label^="bot's message: _"]) + .message-buttons {
  display: none;
}
"""


class PageConversations:
    """The conversation each open page started, by page (its browser cookie and Gradio session), for the moments
    before the page holds its token. A question and a click on 转人工 sent together from a fresh page arrive with
    no token, and would otherwise each start a conversation: the request for a person would go to an empty one
    and the page would show whichever came back last. Gradio keeps a page's events on one process, so this is
    per process; the oldest pages are forgotten past ``limit``."""

    def __init__(self, start: Callable[[], str], limit: int = 10_000) -> None:
        self._start = start
        self._limit = limit
        self._pages: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, page: tuple[str, str] | None) -> str | None:
        with self._lock:
            return self._pages.get(page) if page else None

    def start(self, page: tuple[str, str] | None) -> str:
        """The page's conversation, started now if it has none."""
        if not page:
            return self._start()
        with self._lock:
            if page not in self._pages:
                self._pages[page] = self._start()
                while len(self._pages) > self._limit:
                    self._pages.popitem(last=False)
            return self._pages[page]

    def forget(self, page: tuple[str, str] | None) -> None:
        """The page's next question starts a new conversation (it cleared the chat, or its conversation was deleted)."""
        with self._lock:
            if page:
                self._pages.pop(page, None)


def as_chat(message: dict[str, Any], bot_label: str = "") -> dict[str, str]:
    """One stored message as a Gradio chat message: the citizen's as typed, agents named, system notes
    in italics."""
    from assistant.replies import agent_label

    content = message["content"]
    if message["role"] == "user":
        return {"role": "user", "content": literal(content)}
    if message["role"] == "agent":
        content = f"**{agent_label(message['author'])}**：{content}"
    elif message["role"] == "system":
        content = f"_{content}_"
    else:
        content = bot_label + content
    return {"role": "assistant", "content": content}


def _chat_history(desk, conversation_id):  # type: ignore[no-untyped-def]
    """The stored transcript as Gradio messages, and for each the stored id of a bot's answer (what a
    👍/👎 rates) or the negated id of any other message (a person's words or a note are not rated)."""
    messages = desk.messages(conversation_id, citizen=True)
    return [as_chat(m) for m in messages], [m["id"] if m["role"] == "assistant" else -m["id"] for m in messages]


def _cards_markdown(answer) -> str:  # type: ignore[no-untyped-def]
    blocks = []
    for card in answer.cards if answer is not None else []:
        lines = [f"<details><summary>办事卡片：{card.name}</summary>", ""]
        for label, value in (("谁能办", card.who), ("在哪办", card.where), ("如何办", card.how)):
            if value:
                lines.append(f"- **{label}**：{value}")
        if card.materials:
            lines.append("- **申请材料**：" + "；".join(card.materials))
        lines.append("</details>")
        blocks.append("\n".join(lines))
    if answer is not None and answer.guide:
        blocks.append(f"<details><summary>查看完整指南</summary>\n\n{answer.guide}\n\n</details>")
    return "\n\n".join(blocks)


CLEARED = "cleared"  # the chat's conversation id after 清空对话
TICKET_POLL_SECONDS = 5.0  # how often a page with a ticket looks for the agent's reply


def knowledge_notice(packs: list[Any]) -> str:
    """The line under the chat's title saying what it answers from; sample data always says so."""
    samples = [p for p in packs if p.sample]
    if samples:
        places = "、".join(p.region or p.title or p.name for p in samples)
        return f"当前知识库含示例数据（{places}），不是真实城市的指南。"
    titled = [p.title or p.name for p in packs]
    return f"当前知识库：{'、'.join(titled)}。" if titled else ""


def build_citizen_chat(desk, assistant, limiter=None, tokens=None):  # type: ignore[no-untyped-def]
    """The citizen chat. The browser keeps its conversation as a token signed with ``tokens`` (a
    ConversationTokens; by default a random secret of this process), so it acts only on conversations it
    started: a token it did not get from here is as good as none."""
    import secrets

    import gradio as gr

    from assistant.clean import clean_text
    from desk.ratelimit import RateLimiter
    from desk.types import MAX_QUESTION_CHARS, WITH_PERSON, DeskError
    from web.edge import BROWSER_COOKIE, log_failure
    from web.tokens import ConversationTokens

    limiter = limiter or RateLimiter(0)
    tokens = tokens or ConversationTokens(secrets.token_bytes(32))

    def browser(request) -> str:  # type: ignore[no-untyped-def]
        """The browser's cookie that its conversation tokens are bound to ("" for a client that keeps none)."""
        cookies = getattr(request, "cookies", None) if request is not None else None
        value = cookies.get(BROWSER_COOKIE, "") if cookies is not None else ""
        return value if isinstance(value, str) else ""

    pages = PageConversations(lambda: desk.start("web"))

    def page(request) -> tuple[str, str] | None:  # type: ignore[no-untyped-def]
        """This page: its browser and its Gradio session (None for a client that has no session)."""
        session = getattr(request, "session_hash", None) if request is not None else None
        return (browser(request), session) if isinstance(session, str) and session else None

    def held(token, request) -> str | None:  # type: ignore[no-untyped-def]
        """The conversation the page holds: its token's, or else the one it started before it held a token."""
        return tokens.opened(token, browser(request)) or pages.get(page(request))

    def too_fast(request) -> str | None:  # type: ignore[no-untyped-def]
        """The polite refusal when this browser's address asks faster than the limit, else None."""
        address = request.client.host if request is not None and request.client else "unknown"
        wait = limiter.wait_for(f"web@{address}")
        return f"您的提问太频繁了，请 {math.ceil(wait)} 秒后再试。" if wait else None

    districts = sorted({full for short, full in assistant.region_names.items() if full != short and
                        short == full[len(full) - len(short):] and short.endswith(("区", "县"))})
    short_names = {full: next(s for s, f in assistant.region_names.items() if f == full and s.endswith(("区", "县")))
                   for full in districts}
    choices = ["不限", *short_names.values()]

    with gr.Blocks(title="办事 · 政务服务智能问答") as chat:
        # In the browser's storage, so a reload (or a phone waking up) keeps the conversation and the queue place.
        conversation = gr.BrowserState(None, storage_key="banshi-conversation")
        message_ids = gr.State([])
        # A callable: read on every page load, so it follows a knowledge reload.
        gr.Markdown(lambda: "## 办事 · 政务服务智能问答\n问我**谁能办、在哪办、如何办**，答案来自办事指南并注明出处。"
                    + knowledge_notice(assistant.index.packs()))
        region = gr.Dropdown(choices=choices, value="不限", label="您所在的区", scale=1)
        # A bubble a message: an agent's reply is not run into the bot's answer before it.
        chatbot = gr.Chatbot(label="对话", height=480, feedback_options=("Like", "Dislike"), elem_id="chat",
                             group_consecutive_messages=False)
        status = gr.Markdown(elem_id="handoff-status")
        with gr.Row():
            box = gr.Textbox(placeholder="请输入您的问题，例如：办居住证要带什么材料", show_label=False, scale=5,
                             elem_id="question")
            send = gr.Button("发送", variant="primary", scale=1, elem_id="send")
        chips = gr.Dataset(components=[gr.Textbox(visible=False, label="问题")], samples=[], label="您还可以问",
                           elem_id="chips", visible=False)  # shown with the first answer that has suggestions
        with gr.Row():
            human = gr.Button("转人工", elem_id="handoff")
            reason = gr.Radio(["答非所问", "信息有误", "不够详细", "其他"], label="差评原因（点“踩”前可选）", scale=3)
        cards = gr.Markdown(elem_id="cards")
        timer = gr.Timer(1.0, active=False)  # runs only while a person may write (see keep_polling)

        def polling(state: str):  # type: ignore[no-untyped-def]
            """Every second while a person is coming or writing; every 5 s with a ticket (hours may pass)."""
            if state in WITH_PERSON:
                return gr.Timer(value=1.0, active=True)
            return gr.Timer(value=TICKET_POLL_SECONDS, active=state == "callback")

        def ask(question, token, region_name, request: gr.Request):  # type: ignore[no-untyped-def]
            """Streams: the question at once, then the answer line by line, then chips, cards and status."""
            conversation_id = held(token, request)
            question = clean_text(question).strip() if isinstance(question, str) else ""  # as the API's
            if not question:
                yield (gr.skip(),) * 7
                return
            sorry = (f"您的问题有 {len(question)} 字，请精简到 {MAX_QUESTION_CHARS} 字以内再发送。"
                     if len(question) > MAX_QUESTION_CHARS else too_fast(request))
            if sorry:  # not stored, not answered: the question stays in the box to send again
                yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), sorry, gr.skip(), gr.skip()
                return
            try:
                history, ids = _chat_history(desk, conversation_id) if conversation_id else ([], [])
            except DeskError:  # an id kept by the browser from an older database, or deleted (retention)
                conversation_id, history, ids = None, [], []
                pages.forget(page(request))
            conversation_id = conversation_id or pages.start(page(request))
            token = tokens.issue(conversation_id, browser(request))
            pending = [*history, {"role": "user", "content": literal(question)}]
            yield ("", token, [*pending, {"role": "assistant", "content": "正在查找办事指南……"}],
                   gr.skip(), gr.skip(), gr.skip(), gr.skip())
            full = next((f for f, s in short_names.items() if s == region_name), None)
            try:
                answer, handoff, _ = desk.ask(conversation_id, question, region=full)
            except Exception as err:  # noqa: BLE001 - a citizen never sees a stack trace; the log gets where it failed
                log_failure(logger, "answering", err)
                sorry = "抱歉，系统暂时无法回答，请稍后再试，或拨打 12345 政务服务便民热线。"
                yield ("", token, [*pending, {"role": "assistant", "content": sorry}],
                       gr.skip(), gr.skip(), gr.skip(), gr.skip())
                return
            history, ids = _chat_history(desk, conversation_id)
            if answer is not None and history and history[-1]["role"] == "assistant":
                lines = history[-1]["content"].splitlines(keepends=True)
                for shown in range(1, len(lines)):
                    partial = {"role": "assistant", "content": "".join(lines[:shown])}
                    yield (gr.skip(), gr.skip(), [*history[:-1], partial], gr.skip(), gr.skip(), gr.skip(), gr.skip())
            # No suggestions while a person is coming or writing: the citizen waits for them, not the bot.
            samples = [[s] for s in (answer.suggestions if answer and not handoff.with_person else [])]
            said = desk.status_text(handoff) if answer is not None else "您的消息已发送给工作人员，请稍候回复。"
            yield ("", token, history, ids, said, gr.Dataset(samples=samples, visible=bool(samples)),
                   _cards_markdown(answer))

        ask.__annotations__["request"] = gr.Request  # found by type; postponed annotations hide it
        outputs = [box, conversation, chatbot, message_ids, status, chips, cards]
        def keep_polling(token, request: gr.Request):  # type: ignore[no-untyped-def]
            """Poll for new messages only while a person may write: waiting for or talking with an agent,
            or a request left with a ticket (an agent answers it in this conversation later). Otherwise
            nothing arrives that the citizen did not ask for, and an idle tab costs the server nothing."""
            conversation_id = held(token, request)
            try:
                state = desk.status(conversation_id).state if conversation_id else "bot"
            except DeskError:
                state = "bot"
            return polling(state)

        keep_polling.__annotations__["request"] = gr.Request
        send.click(ask, [box, conversation, region], outputs).then(keep_polling, [conversation], [timer])
        box.submit(ask, [box, conversation, region], outputs).then(keep_polling, [conversation], [timer])
        def ask_chip(sample, token, region_name, request: gr.Request):  # type: ignore[no-untyped-def]
            yield from ask(sample[0] if isinstance(sample, list) and sample else "", token, region_name, request)

        ask_chip.__annotations__["request"] = gr.Request
        chips.click(ask_chip, [chips, conversation, region], outputs).then(keep_polling, [conversation], [timer])

        def request_human(token, request: gr.Request):  # type: ignore[no-untyped-def]
            conversation_id = held(token, request)
            sorry = too_fast(request)
            if sorry:
                return gr.skip(), gr.skip(), gr.skip(), sorry, gr.skip()
            try:
                handoff = desk.request_handoff(conversation_id, "requested", announce=True) if conversation_id else None
            except DeskError:  # deleted after the retention period, or from an older database
                handoff = None
                pages.forget(page(request))
            if handoff is None:  # the page's question sent just before may have started it meanwhile
                conversation_id = pages.start(page(request))
                handoff = desk.request_handoff(conversation_id, "requested", announce=True)
            history, ids = _chat_history(desk, conversation_id)
            return (tokens.issue(conversation_id, browser(request)), history, ids, desk.status_text(handoff),
                    gr.Dataset(samples=[], visible=False))

        request_human.__annotations__["request"] = gr.Request
        human.click(request_human, [conversation], [conversation, chatbot, message_ids, status, chips]).then(
            keep_polling, [conversation], [timer])

        def poll(token, shown_ids, request: gr.Request):  # type: ignore[no-untyped-def]
            conversation_id = held(token, request)
            if not conversation_id:
                return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False)
            try:
                handoff = desk.status(conversation_id)  # first: it notices the agents gone (a ticket, a note)
                history, ids = _chat_history(desk, conversation_id)
                if ids == shown_ids:  # every change of state comes with a message
                    return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                chips_now = gr.Dataset(samples=[], visible=False) if handoff.with_person else gr.skip()
                return history, ids, desk.status_text(handoff), chips_now, polling(handoff.state)
            except DeskError:  # deleted meanwhile (retention): the next question starts afresh
                return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False)

        poll.__annotations__["request"] = gr.Request
        timer.tick(poll, [conversation, message_ids], [chatbot, message_ids, status, chips, timer])

        def restore(token, request: gr.Request):  # type: ignore[no-untyped-def]
            conversation_id = tokens.opened(token, browser(request))
            if not conversation_id:
                return None, [], [], ""
            try:
                history, ids = _chat_history(desk, conversation_id)
                return token, history, ids, desk.status_text(desk.status(conversation_id))
            except DeskError:  # an id from an older database: start afresh
                return None, [], [], ""

        restore.__annotations__["request"] = gr.Request
        chat.load(restore, [conversation], [conversation, chatbot, message_ids, status]).then(
            keep_polling, [conversation], [timer])

        def clear(token, request: gr.Request):  # type: ignore[no-untyped-def]
            """The chat's clear button: the next question starts a new conversation (a reload shows it empty);
            a handoff still waiting is withdrawn."""
            conversation_id = held(token, request)
            pages.forget(page(request))
            if conversation_id:
                with contextlib.suppress(DeskError):  # already deleted (retention): nothing to end
                    desk.leave(conversation_id)
            # Not None or "": the browser's storage keeps its old value for those. No conversation has this
            # id, so every handler starts afresh from it, as from an id of an older database.
            return CLEARED, [], "", gr.Dataset(samples=[], visible=False), "", gr.Timer(active=False)

        clear.__annotations__["request"] = gr.Request
        chatbot.clear(clear, [conversation], [conversation, message_ids, status, chips, cards, timer])

        def rate(data: gr.LikeData, token, ids, why, request: gr.Request):  # type: ignore[no-untyped-def]
            conversation_id = tokens.opened(token, browser(request))
            if not (conversation_id and isinstance(data.index, int) and isinstance(ids, list) and
                    0 <= data.index < len(ids) and isinstance(ids[data.index], int) and ids[data.index] > 0):
                return
            sorry = too_fast(request)
            if sorry:
                gr.Warning(sorry)
                return
            with contextlib.suppress(DeskError):  # deleted meanwhile (retention), or not this conversation's
                desk.feedback(conversation_id, "up" if data.liked else "down", message_id=ids[data.index],
                              reason=None if data.liked or not isinstance(why, str) else why)
                gr.Info("感谢您的评价！")

        rate.__annotations__.update(data=gr.LikeData, request=gr.Request)  # found by type, as above
        chatbot.like(rate, [conversation, message_ids, reason], None)
    # Gradio runs one event of a kind at a time unless told otherwise: one citizen's answer (seconds,
    # with an LLM endpoint) would hold up every other citizen's.
    return chat.queue(default_concurrency_limit=CONCURRENT_EVENTS)
