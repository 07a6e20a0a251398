"""What every request meets before the pages and the API: the caller's address made known to the staff login,
login cookies kept to this site, a browser cookie for the citizen chat, no file uploads, and failures logged
without what the citizen wrote.

A plain ASGI middleware, so it sees the Gradio pages mounted in the app as well as the API.
"""

from __future__ import annotations

import contextvars
import json
import logging
import secrets
import traceback
from http.cookies import SimpleCookie
from typing import Any

logger = logging.getLogger(__name__)

# The address of the request being handled (Gradio's login callback is given only a name and a password).
client_address: contextvars.ContextVar[str] = contextvars.ContextVar("client_address", default="unknown")

Scope = dict[str, Any]
UPLOADS = ("/gradio_api/upload", "/gradio_api/process_recording")  # no page of ours takes a file
# The citizen chat's browser: a random id, HttpOnly, that the chat's signed conversation ids are bound to, so an
# id copied out of the page's storage is no use in another browser (see web/tokens.py).
BROWSER_COOKIE = "banshi-browser"
_NOT_THE_CHAT = ("/api/", "/agent", "/kiosk", "/healthz", "/docs", "/redoc", "/openapi.json")


class Edge:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client_address.set(scope["client"][0] if scope.get("client") else "unknown")
        if scope["method"] == "POST" and scope["path"].rstrip("/").endswith(UPLOADS):
            await _json(send, 413, {"detail": "uploads are not accepted"})
            return
        started = False
        browser = None if scope["path"].startswith(_NOT_THE_CHAT) or _has_browser_cookie(scope) else (
            f"{BROWSER_COOKIE}={secrets.token_hex(16)}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax"
            + ("; Secure" if scope.get("scheme") == "https" else ""))

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [_same_site(name, value) for name, value in message.get("headers", [])]
                if browser:
                    message["headers"].append((b"set-cookie", browser.encode()))
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except Exception as err:  # noqa: BLE001 - the caller gets a plain 500; the log gets where, not what was said
            log_failure(logger, f"{scope['method']} {scope['path']}", err)
            if started:
                raise RuntimeError("the response failed after it began") from None
            await _json(send, 500, {"detail": "internal error"})


def log_failure(log: logging.Logger, what: str, err: BaseException) -> None:
    """Log that ``what`` failed with ``err``: its type and where it was raised, not its message, which may quote
    its input (a citizen's question)."""
    code = getattr(getattr(err, "orig", None), "sqlite_errorname", None)  # SQLITE_BUSY: "database is locked"
    log.error("%s failed: %s%s\n%s", what, type(err).__name__, f" ({code})" if code else "",
              "".join(traceback.format_tb(err.__traceback__)))


def _has_browser_cookie(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"cookie" and BROWSER_COOKIE.encode() in value:
            cookies: SimpleCookie = SimpleCookie()
            try:
                cookies.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header is as good as none
                return False
            return BROWSER_COOKIE in cookies
    return False


def _same_site(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    """Gradio's login cookie says SameSite=None (sent along with requests from other sites); Lax keeps it here."""
    if name.lower() == b"set-cookie" and b"samesite=none" in value.lower():
        head, _, tail = value.partition(b";")
        attributes = [a for a in tail.split(b";") if not a.strip().lower().startswith(b"samesite")]
        value = b";".join([head, *attributes, b" SameSite=Lax"])
    return name, value


async def _json(send: Any, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
