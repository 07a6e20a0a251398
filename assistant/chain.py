"""The assistant as a LangChain runnable: understand → resolve → decide → compose → render.

``build_chain(assistant).invoke({"question": ..., "session": Session(), "hall_id": None})`` returns
an :class:`Answer`; ``.stream`` yields it when the last stage is done. With a rephraser the render
stage hands the grounded answer to the LLM behind the grounding check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

from assistant.answer import Answer
from assistant.llm import Rephraser
from assistant.replies import compose_refusal
from assistant.service import Assistant
from assistant.session import Session
from assistant.turn import TurnState


def build_chain(assistant: Assistant, rephraser: Rephraser | None = None) -> Runnable[dict[str, Any], Answer]:
    def start(inputs: dict[str, Any]) -> TurnState:
        session = inputs.get("session") or Session()
        hall_id = inputs.get("hall_id")
        state = TurnState(question=str(inputs["question"]).strip(), session=session,
                          hall=assistant.halls.get(hall_id) if hall_id else None)
        if not state.question:
            state.answer = compose_refusal()
        return state

    def stage(step: Callable[[TurnState], TurnState]) -> Callable[[TurnState], TurnState]:
        def run(state: TurnState) -> TurnState:
            return state if not state.question else step(state)
        return run

    def render(state: TurnState) -> Answer:
        assert state.answer is not None
        if rephraser is None:
            return state.answer
        return rephraser(state.question, state.answer)

    return (RunnableLambda(start, name="normalise")
            | RunnableLambda(stage(assistant.understand), name="understand")
            | RunnableLambda(stage(assistant.resolve), name="retrieve")
            | RunnableLambda(stage(assistant.decide), name="decide")
            | RunnableLambda(stage(assistant.compose), name="compose")
            | RunnableLambda(render, name="render"))
