"""The staff console's pages on real parts: hit testing over a real index, the review of 差评 on a real SQLite
file, and a case saved there run by ``banshi eval``."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from assistant.build import build_search
from assistant.hittest import hit_test, region_choices, render_markdown
from assistant.service import Assistant
from assistant.settings import Settings
from cli import main
from desk.handoff import Desk
from desk.reviews import CaseDraft, DislikedAnswer, FeedbackReviews, ReviewError, parse_facts, parse_ids
from desk.store import Feedback, FeedbackReview
from evals.cases import load_cases
from tests.conftest import FIXTURE_PACK, ingested

HOSTILE = "<img src=x onerror=alert(1)> [点我](https://evil.example/) **粗体** $x$"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingested(tmp_path_factory.mktemp("console-data"), FIXTURE_PACK)


@pytest.fixture(scope="module")
def assistant(data_dir: Path) -> Assistant:
    return Assistant(build_search(Settings(data_dir=data_dir)))


@pytest.fixture()
def desk(tmp_path: Path, assistant: Assistant) -> Desk:
    return Desk(f"sqlite:///{tmp_path / 'banshi.sqlite'}",
                lambda question, session, hall: assistant.ask(question, session, hall_id=hall))


@pytest.fixture()
def reviews(desk: Desk, tmp_path: Path) -> FeedbackReviews:
    return FeedbackReviews(desk.sessions, tmp_path / "cases" / "feedback.jsonl", clock=desk.clock)


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
    row = re.search(r"<tr><td[^>]*>1</td><td>居住证申领<br><code>t&#45;residence&#45;permit</code></td>"
                    r"<td[^>]*>(\S+?)</td><td[^>]*>(\S+?)</td><td[^>]*>(\S+?)</td><td[^>]*>(\S+?)</td>", view)
    assert row and row.groups() == (f"{first.score:.3f}", f"{first.lexical:.2f}", f"{first.dense:.3f}",
                                    f"{first.confidence:.2f}")
    assert view.count("低于阈值") == sum(h.confidence < 0.4 for h in test.retrieval.hits) < len(test.retrieval.hits)


def test_hit_testing_marks_hits_below_the_threshold_and_says_why_it_refuses(assistant: Assistant) -> None:
    test = hit_test(assistant, "帮我写首诗")
    assert test.answer.decision == "refuse" and test.retrieval.hits
    assert test.reason == f"置信度 {test.retrieval.confidence:.2f}，低于拒答阈值 0.40：没有把握，不作回答。"
    view = render_markdown(test)
    assert view.count("低于阈值</b>") == len(test.retrieval.hits)
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
        "4 项指南得分接近，无法确定是哪一项：“居民身份证补领（遗失、损坏）”、“居民身份证换领（有效期满）”、"
        "“临时居民身份证申领”、“居民身份证首次申领”，请群众选择。")
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


# -- 差评 review --------------------------------------------------------------------------------------------


def _rated_down(desk: Desk, question: str, reason: str | None = None, *, before: list[str] = ()) -> int:
    conversation = desk.start("web")
    for earlier in before:
        desk.ask(conversation, earlier)
    _, _, message_id = desk.ask(conversation, question)
    return desk.feedback(conversation, "down", message_id=message_id, reason=reason)


def test_disliked_answers_newest_first_with_question_answer_and_reason(desk: Desk, reviews: FeedbackReviews) -> None:
    older = _rated_down(desk, "要多久", "不够详细，我电话13812345678", before=["办居住证要带什么材料"])
    liked = desk.start("web")
    _, _, message_id = desk.ask(liked, "食品经营许可要带什么材料")
    desk.feedback(liked, "up", message_id=message_id)
    newer = _rated_down(desk, "帮我写首诗")
    # A rating of a person's reply is no answer of the assistant's.
    desk.heartbeat("alice")
    handed = desk.start("web")
    desk.request_handoff(handed)
    desk.claim(desk.queue()[0].handoff_id, "alice")
    desk.feedback(handed, "down", message_id=desk.reply(handed, "alice", "请到窗口办理"), reason="态度差")

    listed = reviews.disliked()
    assert [d.feedback_id for d in listed] == [newer, older]
    first_answer = desk.messages(listed[1].conversation_id)[1]["content"]
    follow_up = desk.messages(listed[1].conversation_id)[3]
    assert listed[1] == DislikedAnswer(
        feedback_id=older, conversation_id=listed[1].conversation_id, channel="web", rated_at=listed[1].rated_at,
        reason="不够详细，我电话[手机号已隐藏]",
        question="要多久", answer=follow_up["content"], decision="answer", cited=("t-residence-permit",),
        history=(("user", "办居住证要带什么材料"), ("assistant", first_answer)), region=None)
    assert dt.datetime.now(dt.UTC) - listed[1].rated_at < dt.timedelta(minutes=1)
    assert (listed[0].question, listed[0].decision, listed[0].cited, listed[0].history) == (
        "帮我写首诗", "refuse", (), ())
    assert "10个工作日" in listed[1].answer


def test_a_rating_of_the_whole_conversation_is_of_its_last_answer(desk: Desk, reviews: FeedbackReviews) -> None:
    conversation = desk.start("kiosk")
    desk.ask(conversation, "办居住证要带什么材料")
    desk.feedback(conversation, "down", reason="其他")  # the API allows a rating without a message
    [disliked] = reviews.disliked()
    assert (disliked.channel, disliked.question, disliked.decision, disliked.cited) == (
        "kiosk", "办居住证要带什么材料", "answer", ("t-residence-permit",))


def test_a_reviewed_rating_is_listed_no_more(desk: Desk, reviews: FeedbackReviews, assistant: Assistant) -> None:
    first, second = _rated_down(desk, "帮我写首诗"), _rated_down(desk, "办居住证要带什么材料")
    reviews.set_aside(first, "alice")
    assert [d.feedback_id for d in reviews.disliked()] == [second]
    draft = CaseDraft("办居住证要带什么材料", ("t-residence-permit",), ("居民身份证",), "answer")
    case_id = reviews.save_case(second, draft, "bob", assistant.names)
    assert reviews.disliked() == []
    with desk.sessions() as db:
        assert [(r.feedback_id, r.agent, r.case_id) for r in db.scalars(select(FeedbackReview))] == [
            (first, "alice", None), (second, "bob", case_id)]
    for again in (lambda: reviews.set_aside(first, "bob"), lambda: reviews.save_case(second, draft, "alice",
                                                                                      assistant.names)):
        with pytest.raises(ReviewError, match=r"^差评 \d+ 已处理过。$"):
            again()
    with pytest.raises(ReviewError, match="没有编号为 999 的差评"):
        reviews.set_aside(999, "alice")
    assert len(reviews.cases.read_text(encoding="utf-8").splitlines()) == 1  # the second try wrote nothing


@pytest.mark.parametrize(("draft", "message"), [
    (CaseDraft("  ", ("t-residence-permit",), (), "answer"), "未保存：问题不能为空。"),
    (CaseDraft("办居住证", ("t-residence-permit", "t-nope", "x y"), (), "answer"),
     "未保存：知识库中没有这些指南编号：t-nope、x y。"),
    (CaseDraft("办居住证", (), ("居民身份证",), "answer"), "未保存：预期处理为“回答”时，请至少填写一个预期指南编号。"),
    (CaseDraft("办居住证", (), (), "maybe"), "未保存：预期处理只能是回答、反问、拒答、转人工之一，收到的是“maybe”。"),
    (CaseDraft("证" * 2001, (), (), "refuse"), "未保存：问题有 2001 字，最多 2000 字。"),
])
def test_a_bad_case_is_refused_with_the_reason_and_nothing_is_written(
        desk: Desk, reviews: FeedbackReviews, assistant: Assistant, draft: CaseDraft, message: str) -> None:
    feedback_id = _rated_down(desk, "办居住证要带什么材料")
    with pytest.raises(ReviewError) as refused:
        reviews.save_case(feedback_id, draft, "alice", assistant.names)
    assert str(refused.value) == message
    assert not reviews.cases.exists()
    assert [d.feedback_id for d in reviews.disliked()] == [feedback_id]  # still to review


def test_a_saved_case_is_run_by_banshi_eval(desk: Desk, reviews: FeedbackReviews, assistant: Assistant,
                                           data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    followed = _rated_down(desk, "要多久", "不够详细", before=["办居住证要带什么材料"])
    refused = _rated_down(desk, "帮我写首诗")
    [poem, permit] = reviews.disliked()
    reviews.cases.parent.mkdir()
    reviews.cases.write_text('{"id": "kept", "question": "食品经营许可要带什么材料", '
                             '"expected_ids": ["t-food-license"]}', encoding="utf-8")  # no line break at its end
    draft = CaseDraft(permit.question, parse_ids(" t-residence-permit，t-residence-permit "),
                      parse_facts("10个工作日\n\n 我的手机13812345678 \n10个工作日"), "answer",
                      channel=permit.channel, history=permit.history)
    first = reviews.save_case(followed, draft, "alice", assistant.names)
    second = reviews.save_case(refused, CaseDraft(poem.question, (), (), "refuse"), "alice", assistant.names)
    assert re.fullmatch(rf"fb-{followed}-[0-9a-f]{{8}}", first) and first != second

    lines = reviews.cases.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[1]) == {
        "id": first, "question": "要多久",
        "history": [{"role": "user", "content": "办居住证要带什么材料"},
                    {"role": "assistant", "content": permit.history[1][1]}],
        "region": None, "channel": "web", "expected_ids": ["t-residence-permit"],
        "expected_facts": ["10个工作日", "我的手机[手机号已隐藏]"], "expect": "answer", "tags": ["feedback"]}
    assert [c.id for c in load_cases([reviews.cases])] == ["kept", first, second]

    assert main(["eval", str(reviews.cases), "--data-dir", str(data_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["metrics"]["all"]["cases"] == 3 and report["metrics"]["feedback"]["cases"] == 2
    assert report["metrics"]["feedback"]["decision"] == 1.0  # the follow-up answered, the poem refused
    assert report["metrics"]["feedback"]["facts"] == 0.5  # "10个工作日" is there; the redacted phone number is not
    assert [f["id"] for f in report["answer_failures"]] == [first]


def test_a_database_from_before_reviews_gets_the_table_and_keeps_its_ratings(tmp_path: Path,
                                                                             assistant: Assistant) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    before = Desk(url, lambda question, session, hall: assistant.ask(question, session, hall_id=hall))
    feedback_id = _rated_down(before, "办居住证要带什么材料", "信息有误")
    with before.sessions.begin() as db:  # as an older version left it: no table of reviews
        db.execute(text("DROP TABLE feedback_reviews"))
    assert "feedback_reviews" not in inspect(create_engine(url)).get_table_names()

    desk = Desk(url, lambda *_: None)  # type: ignore[arg-type,return-value]  # the new version starts
    assert "feedback_reviews" in inspect(create_engine(url)).get_table_names()
    reviews = FeedbackReviews(desk.sessions, tmp_path / "cases.jsonl")
    assert [(d.feedback_id, d.reason) for d in reviews.disliked()] == [(feedback_id, "信息有误")]
    reviews.set_aside(feedback_id, "alice")
    assert reviews.disliked() == []


def test_purge_deletes_reviews_with_their_conversation(desk: Desk, reviews: FeedbackReviews) -> None:
    feedback_id = _rated_down(desk, "帮我写首诗")
    reviews.set_aside(feedback_id, "alice")
    desk.clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=200)
    assert desk.purge(dt.timedelta(days=180))["feedback"] == 1
    with desk.sessions() as db:
        assert db.scalars(select(FeedbackReview)).all() == [] and db.scalars(select(Feedback)).all() == []


def test_hit_testing_says_why_it_asks_where_and_why_a_story_gets_only_a_reference(assistant: Assistant) -> None:
    from assistant.answer import Answer, Citation
    from assistant.hittest import decision_reason
    from assistant.session import Session
    from assistant.turn import SURE

    retrieval = assistant.search.search("律师执业变更")
    names = {"a": "律师执业变更审核(（执业类别变更）)", "b": "律师执业变更审核(执业类别变更)", "c": "律师执业注销"}
    clarify = Answer(text="…", speech="…", decision="clarify")
    asked_where = decision_reason(clarify, Session(options=["a", "b"]), retrieval, 0.4, names)
    assert "由各地分别办理" in asked_where and "得分接近" not in asked_where
    asked_which = decision_reason(clarify, Session(options=["a", "c"]), retrieval, 0.4, names)
    assert "得分接近" in asked_which
    hedged = Answer(text="…", speech="…", decision="answer", confidence=0.5, reference_only=True,
                    citations=[Citation(guide_id="a", section="name", title="律师执业变更审核")])
    assert f"置信度低于 {SURE:.2f}：指南只作参考" in decision_reason(hedged, Session(), retrieval, 0.4, names)
