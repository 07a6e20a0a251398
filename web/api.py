"""The channel API (`/api/v1`) for the kiosk's digital human and other channels.

Every call carries ``X-API-Key``; each channel has its own key (settings). The answer object is the
one every channel shares; its ``speech`` is what a digital human says aloud.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import math
import re
import time
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, BeforeValidator, Field, field_validator

from assistant.answer import Answer
from assistant.clean import clean_text
from assistant.service import Assistant
from desk.handoff import Desk
from desk.ratelimit import Limiter, RateLimiter
from desk.types import MAX_QUESTION_CHARS, DeskError

MAX_ID = 2**63 - 1  # the largest id a database column holds; a larger one is a 422, not a database error
PAGE = 100  # messages in one page of a session's history, unless the caller asks for fewer or more
MAX_PAGE = 500
MAX_WAIT = 30  # seconds a long poll of /messages may wait for a message
# While a long poll waits, it looks at this process's count of new messages every WAIT_STEP seconds (a reply sent
# from a console of this process arrives at once) and at the database every RECHECK seconds (one from another
# process sharing the database).
WAIT_STEP, RECHECK = 0.1, 0.5
SESSION_ID = re.compile(r"[0-9a-f]{32}")  # what Desk.start hands out
# NUL and lone surrogates are dropped at the door (before pydantic, which refuses a surrogate in a string).
Text = Annotated[str, BeforeValidator(lambda value: clean_text(value) if isinstance(value, str) else value)]


class AskRequest(BaseModel):
    question: Text = Field(min_length=1, max_length=MAX_QUESTION_CHARS, examples=["办居住证要带什么材料"])
    session_id: str | None = Field(default=None, max_length=64, description="omit to start a new conversation")
    region: Text | None = Field(default=None, max_length=64, examples=["示例市明湖区"],
                                description="the citizen's district, full or short (明湖区); one the knowledge has")
    hall_id: Text | None = Field(default=None, max_length=64, description="the hall the kiosk stands in (GET /halls)",
                                 examples=["hall-city"])

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("question is blank")
        return value


class HandoffView(BaseModel):
    state: str
    position: int | None = None
    agent: str | None = None  # the name citizens read (BANSHI_STAFF_NAMES), never a login; None: 工作人员
    ticket: str | None = None
    reason: str | None = None


class AskResponse(BaseModel):
    session_id: str
    message_id: int
    answer: Answer | None = Field(description="null while a person handles the conversation")
    handoff: HandoffView


class HandoffRequest(BaseModel):
    reason: Literal["requested", "complaint"] = "requested"


class FeedbackRequest(BaseModel):
    session_id: str = Field(max_length=64)
    message_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    rating: Literal["up", "down"]
    reason: Text | None = Field(default=None, max_length=500)


def build_router(desk: Desk, assistant: Assistant, api_keys: dict[str, str],
                 limiter: Limiter | None = None, address_limiter: Limiter | None = None) -> APIRouter:
    """``limiter``: requests a minute per session (and per address for new sessions); ``address_limiter``: per
    calling address, whatever the session."""
    router = APIRouter(prefix="/api/v1", tags=["channels"])
    limiter = limiter or RateLimiter(0)
    address_limiter = address_limiter or RateLimiter(0)

    def channel(x_api_key: str = Header(default="", description="the channel's API key")) -> str:
        for name, key in api_keys.items():
            if key and hmac.compare_digest(key, x_api_key):
                return name
        raise HTTPException(status_code=401, detail="missing or unknown X-API-Key")

    def owned(session_id: str, channel_name: str) -> str:
        """``session_id`` if the calling channel started it; any other is unknown to this channel (404)."""
        try:
            if SESSION_ID.fullmatch(session_id) and desk.channel(session_id) == channel_name:
                return session_id
        except DeskError:
            pass
        raise HTTPException(status_code=404, detail="unknown session_id")

    def throttle(channel_name: str, session_id: str | None, client: str) -> None:
        """Per calling address, and per conversation (new conversations per address, so a loop cannot open
        thousands): questions, ratings and requests for a person alike."""
        for bucket, key in ((address_limiter, f"address@{client}"),
                            (limiter, f"{channel_name}:{session_id or 'new@' + client}")):
            wait = bucket.wait_for(key)
            if wait:
                seconds = math.ceil(wait)
                raise HTTPException(status_code=429, headers={"Retry-After": str(seconds)},
                                    detail=f"too many requests: {bucket.per_minute} a minute; retry in {seconds} s")

    def turn(request: AskRequest, channel_name: str, client: str) -> AskResponse:
        if request.session_id:
            owned(request.session_id, channel_name)
        throttle(channel_name, request.session_id, client)
        # A kiosk configured with a hall or district the knowledge does not have would answer without it, silently.
        if request.hall_id and request.hall_id not in assistant.halls:  # "" is as good as none, as for region
            raise HTTPException(status_code=422, detail=f"unknown hall_id {request.hall_id!r}; known: "
                                                        f"{', '.join(sorted(assistant.halls)) or 'none'}")
        region = assistant.region_of(request.region) if request.region else None
        if request.region and region is None:
            raise HTTPException(status_code=422, detail=f"unknown region {request.region!r}")
        with _as_404():
            hall = request.hall_id or None
            if request.session_id:
                session_id = request.session_id
                answer, status, message_id = desk.ask(session_id, request.question, hall_id=hall, region=region)
            else:
                session_id, answer, status, message_id = desk.start_and_ask(channel_name, request.question,
                                                                            hall_id=hall, region=region)
        return AskResponse(session_id=session_id, message_id=message_id, answer=answer,
                           handoff=HandoffView(**status.as_dict()))

    limited: dict[int | str, dict[str, Any]] = {
        429: {"description": "Too many requests from this session or address (see `Retry-After`, in seconds)"}}

    @router.post("/ask", response_model=AskResponse, summary="Ask a question (starts or continues a session)",
                 responses=limited)
    def ask(request: AskRequest, http: Request, channel_name: str = Depends(channel)) -> AskResponse:
        return turn(request, channel_name, _address(http))

    @router.post("/ask/stream", summary="Ask, streamed as server-sent events", responses=limited,
                 description="Events: `delta` (a piece of the text, in order), then `answer` (the whole response).")
    def ask_stream(request: AskRequest, http: Request, channel_name: str = Depends(channel)) -> StreamingResponse:
        response = turn(request, channel_name, _address(http))

        def events() -> Iterator[str]:
            text = response.answer.text if response.answer else ""
            for line in text.splitlines(keepends=True):
                yield f"event: delta\ndata: {json.dumps({'text': line}, ensure_ascii=False)}\n\n"
            yield f"event: answer\ndata: {response.model_dump_json()}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    @router.get("/sessions/{session_id}/messages", summary="The conversation so far (personal data redacted)",
                description="Oldest first, at most `limit` messages with an id above `after`: for the next page, "
                            "pass the last id as `after`; an empty list is the end. With `wait` (seconds), a "
                            "call that would return an empty list waits up to that long for a message instead "
                            "(a long poll: an agent's reply arrives as soon as it is sent).")
    async def history(session_id: str, after: int = Query(0, ge=0, le=MAX_ID),
                      limit: int = Query(PAGE, ge=1, le=MAX_PAGE), wait: float = Query(0, ge=0, le=MAX_WAIT),
                      channel_name: str = Depends(channel)) -> list[dict[str, Any]]:
        def page() -> list[dict[str, Any]]:
            with _as_404():
                return desk.messages(owned(session_id, channel_name), after, citizen=True, limit=limit)

        deadline = time.monotonic() + wait
        while True:
            seen = desk.changes.count(session_id)  # before the query: a message added meanwhile is not missed
            shown = await run_in_threadpool(page)
            if shown or time.monotonic() >= deadline:
                return shown
            recheck = min(deadline, time.monotonic() + RECHECK)
            while time.monotonic() < recheck and desk.changes.count(session_id) == seen:
                await asyncio.sleep(WAIT_STEP)

    @router.post("/sessions/{session_id}/handoff", response_model=HandoffView, summary="Ask for a person",
                 responses=limited)
    def handoff(session_id: str, request: HandoffRequest, http: Request,
                channel_name: str = Depends(channel)) -> HandoffView:
        throttle(channel_name, owned(session_id, channel_name), _address(http))
        with _as_404():
            return HandoffView(**desk.request_handoff(session_id, request.reason).as_dict())

    @router.get("/sessions/{session_id}/handoff", response_model=HandoffView, summary="Handoff state and queue place")
    def handoff_status(session_id: str, channel_name: str = Depends(channel)) -> HandoffView:
        with _as_404():
            return HandoffView(**desk.status(owned(session_id, channel_name)).as_dict())

    @router.post("/sessions/{session_id}/end", response_model=HandoffView, summary="The citizen is gone",
                 description="A kiosk's 重新开始: a waiting handoff is withdrawn, a connected agent is told.")
    def end(session_id: str, channel_name: str = Depends(channel)) -> HandoffView:
        with _as_404():
            return HandoffView(**desk.leave(owned(session_id, channel_name)).as_dict())

    @router.post("/feedback", summary="好差评 on an answer", responses=limited)
    def feedback(request: FeedbackRequest, http: Request, channel_name: str = Depends(channel)) -> dict[str, int]:
        throttle(channel_name, owned(request.session_id, channel_name), _address(http))
        with _as_404():
            return {"id": desk.feedback(request.session_id, request.rating, message_id=request.message_id,
                                        reason=request.reason)}

    @router.get("/themes", summary="The 一件事 themes, for topic buttons")
    def themes(channel_name: str = Depends(channel)) -> list[dict[str, str]]:
        return [{"id": i, "name": assistant.names[i]} for i in sorted(assistant.theme_ids)]

    @router.get("/halls", summary="The halls the knowledge knows")
    def halls(channel_name: str = Depends(channel)) -> list[dict[str, Any]]:
        return [h.model_dump() for h in assistant.halls.values()]

    return router


def _address(request: Request) -> str:
    # Behind a reverse proxy on this host, uvicorn's proxy headers give the citizen's address here.
    return request.client.host if request.client else "unknown"


@contextlib.contextmanager
def _as_404() -> Iterator[None]:
    """A desk error (unknown session or message, empty question) is the caller's 404."""
    try:
        yield
    except DeskError as err:
        raise HTTPException(status_code=404, detail=str(err)) from err


ECHOED = 80  # characters of a rejected value a 422 shows; the rest is not sent back


async def short_validation_errors(request: Request, exc: Exception) -> JSONResponse:
    """A 422 that says what was wrong where, and shows a rejected value only when it is short."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = []
    for error in errors[:10]:
        item: dict[str, Any] = {"type": error.get("type"),
                                "loc": [clean_text(str(p)[:ECHOED]) for p in error.get("loc", ())],
                                "msg": clean_text(str(error.get("msg", ""))[:200])}
        value = error.get("input")
        if isinstance(value, str | int | float | bool) and len(str(value)) <= ECHOED:
            item["input"] = clean_text(value) if isinstance(value, str) else value
        detail.append(item)
    return JSONResponse({"detail": detail}, status_code=422)
