"""The web app: the channel API at /api/v1, the citizen chat at /, the staff console at /agent and the kiosk at
/kiosk, on one FastAPI app. Only the web imports gradio, and only when serving."""

from __future__ import annotations

import json
import logging
import math
import re

from assistant.build import build_assistant, build_rephraser, build_search
from assistant.settings import Settings
from web.api import build_router, short_validation_errors
from web.chat import CHAT_CSS, build_citizen_chat, knowledge_notice
from web.console import build_agent_console

logger = logging.getLogger("banshi")


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

    from assistant.chain import build_chain
    from assistant.reload import KnowledgeWatcher
    from desk.handoff import Desk
    from desk.ratelimit import Limiter, RateLimiter, SharedRateLimiter
    from desk.staff import LoginThrottle, SharedLoginThrottle, check_login
    from web.edge import Edge, client_address
    from web.tokens import ConversationTokens

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
    page = files("web").joinpath("static/kiosk.html").read_text(encoding="utf-8")
    page = (page.replace('"__KIOSK_KEY__"', script_literal(kiosk_key)).replace('"__HALL_ID__"', script_literal(hall))
            .replace('"__NOTICE__"', script_literal(notice))
            .replace("<script>", f'<script nonce="{nonce}">'))
    policy = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; connect-src 'self'; "
              "img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
    return HTMLResponse(page, headers={"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff",
                                       "Referrer-Policy": "no-referrer"})
