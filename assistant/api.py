"""The channel API (`/api/v1`) for the kiosk's digital human and other channels.

Every call carries ``X-API-Key``; each channel has its own key (settings). The answer object is the
one every channel shares; its ``speech`` is what a digital human says aloud.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import math
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, field_validator

from assistant.answer import Answer
from assistant.desk import MAX_QUESTION_CHARS, Desk, DeskError
from assistant.ratelimit import RateLimiter
from assistant.service import Assistant


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, examples=["办居住证要带什么材料"])
    session_id: str | None = Field(default=None, max_length=64, description="omit to start a new conversation")
    region: str | None = Field(default=None, max_length=64, examples=["示例市明湖区"],
                               description="the citizen's district, full or short (明湖区); one the knowledge has")
    hall_id: str | None = Field(default=None, max_length=64, description="the hall the kiosk stands in (GET /halls)",
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
    session_id: str
    message_id: int | None = None
    rating: Literal["up", "down"]
    reason: str | None = Field(default=None, max_length=500)


def build_router(desk: Desk, assistant: Assistant, api_keys: dict[str, str],
                 limiter: RateLimiter | None = None) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["channels"])
    limiter = limiter or RateLimiter(0)

    def channel(x_api_key: str = Header(default="", description="the channel's API key")) -> str:
        for name, key in api_keys.items():
            if key and hmac.compare_digest(key, x_api_key):
                return name
        raise HTTPException(status_code=401, detail="missing or unknown X-API-Key")

    def turn(request: AskRequest, channel_name: str, client: str) -> AskResponse:
        # Per conversation; new conversations per calling address, so a loop cannot open thousands.
        wait = limiter.wait_for(f"{channel_name}:{request.session_id or 'new@' + client}")
        if wait:
            seconds = math.ceil(wait)
            raise HTTPException(status_code=429, headers={"Retry-After": str(seconds)},
                                detail=f"too many questions: {limiter.per_minute} a minute; retry in {seconds} s")
        # A kiosk configured with a hall or district the knowledge does not have would answer without it, silently.
        if request.hall_id and request.hall_id not in assistant.halls:  # "" is as good as none, as for region
            raise HTTPException(status_code=422, detail=f"unknown hall_id {request.hall_id!r}; known: "
                                                        f"{', '.join(sorted(assistant.halls)) or 'none'}")
        region = assistant.region_names.get(request.region, request.region) if request.region else None
        if region is not None and region not in assistant.region_names.values():
            raise HTTPException(status_code=422, detail=f"unknown region {request.region!r}")
        with _as_404():
            session_id = request.session_id or desk.start(channel_name)
            answer, status, message_id = desk.ask(session_id, request.question, hall_id=request.hall_id or None,
                                                  region=region)
        return AskResponse(session_id=session_id, message_id=message_id, answer=answer,
                           handoff=HandoffView(**status.as_dict()))

    limited: dict[int | str, dict[str, Any]] = {
        429: {"description": "Too many questions from this session (see `Retry-After`, in seconds)"}}

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

    @router.get("/sessions/{session_id}/messages", summary="The conversation so far (personal data redacted)")
    def history(session_id: str, after: int = 0, channel_name: str = Depends(channel)) -> list[dict[str, Any]]:
        with _as_404():
            return desk.messages(session_id, after, citizen=True)

    @router.post("/sessions/{session_id}/handoff", response_model=HandoffView, summary="Ask for a person")
    def handoff(session_id: str, request: HandoffRequest, channel_name: str = Depends(channel)) -> HandoffView:
        with _as_404():
            return HandoffView(**desk.request_handoff(session_id, request.reason).as_dict())

    @router.get("/sessions/{session_id}/handoff", response_model=HandoffView, summary="Handoff state and queue place")
    def handoff_status(session_id: str, channel_name: str = Depends(channel)) -> HandoffView:
        with _as_404():
            return HandoffView(**desk.status(session_id).as_dict())

    @router.post("/sessions/{session_id}/end", response_model=HandoffView, summary="The citizen is gone",
                 description="A kiosk's 重新开始: a waiting handoff is withdrawn, a connected agent is told.")
    def end(session_id: str, channel_name: str = Depends(channel)) -> HandoffView:
        with _as_404():
            return HandoffView(**desk.leave(session_id).as_dict())

    @router.post("/feedback", summary="好差评 on an answer")
    def feedback(request: FeedbackRequest, channel_name: str = Depends(channel)) -> dict[str, int]:
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
