"""Optional: a chat model rephrases the grounded answer, behind the same grounding check.

Any OpenAI-compatible endpoint (Qwen, DeepSeek, a local vLLM or Ollama) via langchain-openai, or
any LangChain ``BaseChatModel``. The model sees only the grounded answer and is told to keep every
fact; :func:`assistant.grounding.unsupported_statements` rejects an output with a number, URL or
document that the cited sources do not contain, and the grounded answer is served instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import SecretStr

from assistant.answer import Answer
from assistant.grounding import unsupported_statements
from assistant.redact import redact
from knowledge.errors import ConfigError

logger = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "你是政务服务中心的综合窗口工作人员。请把下面的办事指南摘录改写成简洁、礼貌、口语化的中文回答，"
    "直接回答群众的问题。只能使用摘录中的信息：不得增加、推测或修改任何数字、电话、地址、网址、材料名称和时限；"
    "摘录说“指南未载明”的，照样说明。不要输出来源链接，系统会自动附上。"
)
_SOURCE_LINE = re.compile(r"^来源：.*$", re.M)
_MARKER = re.compile(r"\[(\d+)]")


def make_chat_model(base_url: str, model: str, api_key: str | None, timeout: float, max_tokens: int) -> BaseChatModel:
    """A ChatOpenAI client for an OpenAI-compatible endpoint; raises ImportError without the extra."""
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as err:
        raise ImportError("the LLM rephraser needs the 'llm' extra: pip install 'banshi[llm]'") from err
    if not base_url or not model:
        raise ConfigError(f"an LLM needs a base URL and a model name. Currently, base_url is {base_url!r} "
                          f"and model is {model!r}")
    # max_tokens goes in extra_body: ChatOpenAI sends max_completion_tokens, which some servers ignore.
    return ChatOpenAI(base_url=base_url, model=model, api_key=SecretStr(api_key or "not-needed"), timeout=timeout,
                      max_retries=1, temperature=0.2, extra_body={"max_tokens": max_tokens})


class Rephraser:
    """Rewrites grounded answers with a chat model; any failure or drift serves the grounded one."""

    def __init__(self, model: BaseChatModel, sources: Callable[[Answer], str]) -> None:
        self.model = model
        self.sources = sources

    def __call__(self, question: str, answer: Answer) -> Answer:
        if answer.decision != "answer":
            return answer
        grounded = _SOURCE_LINE.sub("", answer.text).strip()
        # The endpoint may be another organisation's: personal numbers never leave in the question.
        messages = [SystemMessage(SYSTEM_PROMPT),
                    HumanMessage(f"群众的问题：{redact(question)}\n\n指南摘录：\n{grounded}")]
        try:
            reply = self.model.invoke(messages)
        except Exception:  # noqa: BLE001 - the endpoint is outside our control; the grounded answer stands
            logger.warning("LLM rephrasing failed; serving the grounded answer", exc_info=True)
            return answer
        text = str(reply.content).strip()
        problems = unsupported_statements(text, self.sources(answer))
        markers = {int(m) for m in _MARKER.findall(text)}
        if not text or problems or any(m < 1 or m > len(answer.citations) for m in markers):
            logger.warning("LLM output rejected by the grounding check: %s",
                           [redact(p) for p in problems] or "empty or bad markers")
            return answer
        source = _SOURCE_LINE.search(answer.text)
        return answer.model_copy(update={"text": text + ("\n\n" + source.group(0) if source else ""),
                                         "rephrased": True})
