"""The optional LLM stage with langchain-core's fake chat models: faithful, hallucinating, failing."""

from __future__ import annotations

from langchain_core.language_models import FakeListChatModel

from assistant.chain import build_chain
from assistant.llm import Rephraser
from assistant.session import Session

QUESTION = "办护照要多少钱"


def _grounded(demo_assistant):  # type: ignore[no-untyped-def]
    return demo_assistant.ask(QUESTION, Session())


def test_faithful_rephrasing_is_served(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    grounded = _grounded(demo_assistant)
    fee = grounded.text.split("收费标准：")[1].splitlines()[0]
    model = FakeListChatModel(responses=[f"您好，办理普通护照的收费标准是：{fee}"])
    answer = build_chain(demo_assistant, Rephraser(model, demo_assistant.sources)).invoke(
        {"question": QUESTION, "session": Session()})
    assert answer.rephrased is True
    assert answer.text.startswith("您好，办理普通护照的收费标准是：") and "来源：" in answer.text
    assert answer.citations == grounded.citations


def test_hallucinated_fee_is_rejected_and_the_grounded_answer_served(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    grounded = _grounded(demo_assistant)
    model = FakeListChatModel(responses=["办理护照收费 999 元，需携带房产证，咨询电话 010-88886666。"])
    answer = Rephraser(model, demo_assistant.sources)(QUESTION, grounded)
    assert answer.rephrased is False and answer.text == grounded.text


def test_bad_citation_marker_is_rejected(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    grounded = _grounded(demo_assistant)
    model = FakeListChatModel(responses=["请查看护照办事指南[9]。"])
    assert Rephraser(model, demo_assistant.sources)(QUESTION, grounded).text == grounded.text


class _Down(FakeListChatModel):
    def _call(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionError("endpoint down")


def test_endpoint_failure_serves_the_grounded_answer(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    grounded = _grounded(demo_assistant)
    answer = Rephraser(_Down(responses=["x"]), demo_assistant.sources)(QUESTION, grounded)
    assert answer == grounded


def test_clarifying_questions_are_not_rephrased(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    model = FakeListChatModel(responses=["不应被调用"])
    answer = build_chain(demo_assistant, Rephraser(model, demo_assistant.sources)).invoke(
        {"question": "身份证怎么办", "session": Session()})
    assert answer.decision == "clarify" and answer.rephrased is False


def test_openai_compatible_client_is_configured_without_calling_it() -> None:
    import pytest

    from assistant.llm import make_chat_model
    from knowledge.errors import ConfigError

    model = make_chat_model("http://127.0.0.1:9/v1", "qwen2.5-7b-instruct", None, 5.0, 300)
    assert model.model_name == "qwen2.5-7b-instruct"  # type: ignore[attr-defined]
    assert model.openai_api_base == "http://127.0.0.1:9/v1"  # type: ignore[attr-defined]
    assert model.extra_body == {"max_tokens": 300}  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="needs a base URL and a model name"):
        make_chat_model("http://127.0.0.1:9/v1", "", None, 5.0, 300)


class _Recording(FakeListChatModel):
    prompts: list[str] = []

    def _call(self, messages, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.prompts.append("\n".join(str(m.content) for m in messages))
        return super()._call(messages, *args, **kwargs)


def test_personal_numbers_never_reach_the_endpoint_or_the_log(demo_assistant, caplog) -> None:  # type: ignore[no-untyped-def]
    question = "我手机13812345678，身份证110101199003074578，办护照要多少钱"
    grounded = demo_assistant.ask(question, Session())
    model = _Recording(responses=["已记录您的手机13812345678，收费 999 元。"])
    with caplog.at_level("WARNING", logger="assistant.llm"):
        answer = Rephraser(model, demo_assistant.sources)(question, grounded)
    assert answer == grounded  # 999 元 is in no guide
    assert "[手机号已隐藏]" in model.prompts[0] and "[身份证号已隐藏]" in model.prompts[0]
    assert "13812345678" not in model.prompts[0] and "110101199003074578" not in model.prompts[0]
    assert "grounding check" in caplog.text and "13812345678" not in caplog.text
