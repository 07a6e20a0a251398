"""The staff console's pages on real parts: hit testing over a real index."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import main
from assistant.build import build_search
from assistant.hittest import hit_test, region_choices, render_markdown
from assistant.service import Assistant
from knowledge.settings import Settings
from tests.conftest import FIXTURE_PACK

HOSTILE = "<img src=x onerror=alert(1)> [点我](https://evil.example/) **粗体** $x$"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("console-data")
    assert main(["ingest", str(FIXTURE_PACK), "--data-dir", str(data), "-q", "--json"]) == 0
    return data


@pytest.fixture(scope="module")
def assistant(data_dir: Path) -> Assistant:
    return Assistant(build_search(Settings(data_dir=data_dir)))


# -- hit testing ----------------------------------------------------------------------------------------------


def test_hit_testing_ranks_guides_and_says_why_it_answers(assistant: Assistant) -> None:
    test = hit_test(assistant, "办居住证要带什么材料")
    first = test.retrieval.hits[0]
    assert (test.answer.decision, first.record_id, first.chunk.section) == ("answer", "t-residence-permit", "aliases")
    assert test.threshold == 0.4 and test.retrieval.confidence >= 0.4
    assert test.reason == (f"置信度 {test.answer.confidence:.2f}，不低于拒答阈值 0.40："
                           "按“居住证申领”（t-residence-permit）回答。")
    view = render_markdown(test)
    assert "<b>处理</b>：<b>回答</b>" in view and "按“居住证申领”（t&#45;residence&#45;permit）回答" in view
    row = re.search(r"<tr><td>1</td><td>居住证申领<br><code>t&#45;residence&#45;permit</code></td>"
                    r"<td>(\S+?)</td><td>(\S+?)</td><td>(\S+?)</td><td>(\S+?)</td>", view)
    assert row and row.groups() == (f"{first.score:.3f}", f"{first.lexical:.2f}", f"{first.dense:.3f}",
                                    f"{first.confidence:.2f}")
    assert view.count("低于阈值") == sum(h.confidence < 0.4 for h in test.retrieval.hits) < len(test.retrieval.hits)


def test_hit_testing_marks_hits_below_the_threshold_and_says_why_it_refuses(assistant: Assistant) -> None:
    test = hit_test(assistant, "帮我写首诗")
    assert test.answer.decision == "refuse" and test.retrieval.hits
    assert test.reason == f"置信度 {test.retrieval.confidence:.2f}，低于拒答阈值 0.40：没有把握，不作回答。"
    view = render_markdown(test)
    assert view.count("<br><b>低于阈值</b>") == len(test.retrieval.hits)
    assert "<b>处理</b>：<b>拒答</b>" in view


@pytest.mark.parametrize(("question", "decision", "reason"), [
    ("在哪办", "clarify", "问题没有说要办哪项业务：先问是哪一项。"),
    ("转人工", "handoff", "群众要求转人工。"),
    ("你好", "chat", "问候、致谢等寒暄，不查找指南。"),
])
def test_hit_testing_says_why_it_asks_back_or_hands_off(assistant: Assistant, question: str, decision: str,
                                                        reason: str) -> None:
    test = hit_test(assistant, question)
    assert (test.answer.decision, test.reason) == (decision, reason)


def test_hit_testing_names_close_options_and_what_the_knowledge_lacks(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    assert hit_test(demo_assistant, "身份证怎么办").reason == (
        "3 项指南得分接近，无法确定是哪一项：“临时居民身份证申领”、“居民身份证补领（遗失、损坏）”、"
        "“居民身份证换领（有效期满）”，请群众选择。")
    assert hit_test(demo_assistant, "药品经营许可证怎么办").reason == "知识库中没有问题所说的“药品经营许可证”。"
    elsewhere = hit_test(demo_assistant, "北京市办居住证要带什么")
    assert elsewhere.answer.decision == "answer"
    assert elsewhere.reason.endswith("回答。问题提到的北京市不在知识库的范围内，只作参考。")


def test_hit_testing_in_a_region_searches_and_answers_there(assistant: Assistant) -> None:
    assert region_choices(assistant) == ["测试市", "测试市东区", "测试市西区"]
    inside = hit_test(assistant, "办居住证要带什么材料", region="测试市东区")  # the city's guides are its parents'
    assert inside.region == "测试市东区" and inside.retrieval.hits[0].record_id == "t-residence-permit"
    outside = hit_test(assistant, "办居住证要带什么材料", region="外省某市")
    assert (outside.retrieval.hits, outside.answer.decision) == ([], "refuse")
    assert outside.reason == "没有找到任何相关的办事指南。"
    assert "<p>没有找到相关的办事指南。</p>" in render_markdown(outside)
    with pytest.raises(ValueError, match="empty"):
        hit_test(assistant, "  ")


def test_what_staff_typed_and_guides_say_is_shown_as_text(assistant: Assistant) -> None:
    view = render_markdown(hit_test(assistant, HOSTILE))
    for markup in ("<img", "[点我]", "(https:", "**", "$x$", "evil.example/"):
        assert markup not in view
    assert "&#60;img src&#61;x onerror&#61;alert&#40;1&#41;&#62;" in view
    assert "&#91;点我&#93;&#40;https&#58;&#47;&#47;evil&#46;example&#47;&#41;" in view
    guide_markup = render_markdown(hit_test(assistant, "居住证申领要带什么"))  # the answer's own markdown, escaped
    assert "**" not in guide_markup and "&#42;&#42;居住证申领&#42;&#42;" in guide_markup
