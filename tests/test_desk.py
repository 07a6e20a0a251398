"""The handoff desk on a real SQLite file: queue, claims, replies, hand-back, callbacks, redaction."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from assistant.redact import redact
from desk.handoff import Desk
from desk.records import keep_purging
from desk.store import AgentPresence, Base, Conversation, Feedback, Message
from desk.types import ClaimConflictError, DeskError
from tests.conftest import empty_database

MONDAY_10 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 Beijing time


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock(MONDAY_10)


@pytest.fixture(params=["sqlite", "postgresql"])
def desk(request: pytest.FixtureRequest, tmp_path: Path, demo_assistant, clock: Clock) -> Desk:  # type: ignore[no-untyped-def]
    """A real SQLite file, and a real PostgreSQL database when BANSHI_TEST_DATABASE_URL names one (emptied for
    every test)."""
    url = empty_database(request.param, tmp_path)
    return Desk(url, lambda question, session, hall: demo_assistant.ask(question, session, hall_id=hall),
                hours=(dt.time(8, 30), dt.time(17, 30)), clock=clock, staff_names={"alice": "李敏（工号 0123）"})


def test_redaction() -> None:
    assert redact("身份证110101199003074578，手机13812345678，卡6222021234567890123") == \
        "身份证[身份证号已隐藏]，手机[手机号已隐藏]，卡[银行卡号已隐藏]"
    assert redact("咨询电话0000-6600110，12345 热线") == "咨询电话0000-6600110，12345 热线"


@pytest.mark.parametrize(("typed", "shown"), [
    ("手机138.1234.5678", "手机[手机号已隐藏]"),
    ("手机138-1234-5678", "手机[手机号已隐藏]"),
    ("手机 138 1234 5678 谢谢", "手机 [手机号已隐藏] 谢谢"),
    ("手机１３８１２３４５６７８", "手机[手机号已隐藏]"),
    ("手机一三八一二三四五六七八", "手机[手机号已隐藏]"),
    ("手机幺三八 幺二三四 五六七八", "手机[手机号已隐藏]"),
    ("+86 138 1234 5678", "+[手机号已隐藏]"),
    ("老身份证110101900307457", "老身份证[身份证号已隐藏]"),
    ("身份证 110101 19900307 457X", "身份证 [身份证号已隐藏]"),
    ("身份证110101199003074578 13812345678", "身份证[身份证号已隐藏] [手机号已隐藏]"),
    ("电话13812345678 2次", "电话[手机号已隐藏] 2次"),
    ("卡 6222 0212 3456 7890 123", "卡 [银行卡号已隐藏]"),
    *[(kept, kept) for kept in ("2023-10-01 到 2023.12.31", "第1-3项，一二三", "咨询电话 0000-6600110")],
])
def test_redaction_finds_numbers_however_they_are_typed(typed: str, shown: str) -> None:
    assert redact(typed) == shown


def test_numbers_typed_in_other_ways_are_redacted_wherever_stored(desk: Desk) -> None:
    conversation = desk.start("web")
    _, _, message_id = desk.ask(conversation, "我手机一三八一二三四五六七八，办居住证要带什么")
    desk.feedback(conversation, "down", message_id=message_id, 
                  reason="请打１３８.１２３４.５６７８，旧证110101900307457")
    with desk.sessions() as db:
        stored = [m.content for m in db.scalars(select(Message).where(Message.conversation_id == conversation))]
        assert stored[0] == "我手机[手机号已隐藏]，办居住证要带什么"
        assert db.scalars(select(Feedback.reason)).all() == ["请打[手机号已隐藏]，旧证[身份证号已隐藏]"]
        dialogue = json.dumps(db.get(Conversation, conversation).dialogue, ensure_ascii=False)
        assert "办居住证要带什么" in dialogue and "一三八" not in dialogue and "五六七八" not in dialogue


def test_bot_answers_and_the_transcript_is_stored_redacted(desk: Desk) -> None:
    conversation = desk.start("web")
    answer, status, message_id = desk.ask(conversation, "我身份证号110101199003074578，办居住证要带什么")
    assert answer is not None and answer.decision == "answer" and status.state == "bot" and message_id > 0
    stored = desk.messages(conversation)
    assert [m["role"] for m in stored] == ["user", "assistant"]
    assert stored[0]["content"] == "我身份证号[身份证号已隐藏]，办居住证要带什么"
    assert stored[1]["detail"]["citations"][0]["guide_id"] == "demo-residence-permit"
    with desk.sessions() as db:
        dialogue = db.get(Conversation, conversation).dialogue
        assert "110101199003074578" not in str(dialogue)
        assert not db.scalars(select(Message).where(Message.content.contains("110101199003074578"))).all()


def test_a_first_message_starts_its_conversation_in_the_same_turn(desk: Desk) -> None:
    conversation, answer, status, message_id = desk.start_and_ask("kiosk", "我电话13812345678，办护照要多少钱")
    assert answer is not None and answer.decision == "answer" and status.state == "bot" and message_id > 0
    assert desk.channel(conversation) == "kiosk"
    stored = desk.messages(conversation)
    assert [m["role"] for m in stored] == ["user", "assistant"] and "13812345678" not in stored[0]["content"]
    follow_up, _, _ = desk.ask(conversation, "要多久")  # the dialogue state was kept: a follow-up on the passport
    assert follow_up is not None and follow_up.citations[0].guide_id == answer.citations[0].guide_id
    with desk.sessions() as db:
        before = db.scalar(select(func.count()).select_from(Conversation))
    with pytest.raises(DeskError):
        desk.start_and_ask("kiosk", " \x00 ")
    with desk.sessions() as db:  # an empty message starts nothing
        assert db.scalar(select(func.count()).select_from(Conversation)) == before
    desk.request_handoff(conversation, "requested")  # nobody online: a ticket; the bot goes on answering
    _, status, _ = desk.ask(conversation, "办护照要带什么")
    assert status.state == "callback"


def test_the_whole_handoff_story(desk: Desk, clock: Clock) -> None:
    desk.heartbeat("alice")
    desk.heartbeat("bob")
    first, second = desk.start("web"), desk.start("kiosk")
    answer, status, _ = desk.ask(first, "转人工")
    assert answer is not None and answer.decision == "handoff"
    assert (status.state, status.position) == ("waiting", 1)
    assert answer.text == answer.speech == "好的。已为您转接人工服务，您是下一位，请稍候。"  # what happened, once
    told = [(m["role"], m["content"]) for m in desk.messages(first, citizen=True)]
    assert told == [("user", "转人工"), ("assistant", answer.text)]  # the why is for staff only
    assert desk.messages(first)[-1]["content"] == "已转人工（原因：群众要求），等待工作人员接入。"
    queued, status, _ = desk.ask(second, "我要投诉你们窗口态度差")
    assert (status.state, status.position, status.reason) == ("waiting", 2, "complaint")
    assert queued is not None and queued.text == "很抱歉给您带来不便。已为您转接人工服务，您前面还有 1 位，请稍候。"
    clock.now += dt.timedelta(seconds=45)
    queue = desk.queue()
    assert [(e.conversation_id, e.reason, e.waiting_seconds) for e in queue] == [
        (first, "requested", 45), (second, "complaint", 45)]

    assert desk.claim(queue[0].handoff_id, "alice") == first
    with pytest.raises(ClaimConflictError, match="claimed by alice"):
        desk.claim(queue[0].handoff_id, "bob")
    assert desk.status(first).as_dict()["state"] == "agent" and desk.status(second).position == 1

    silent, status, _ = desk.ask(first, "我的身份证丢了，手机13812345678")
    assert silent is None and status.agent == "李敏（工号 0123）"  # a person handles it now: the bot keeps quiet
    assert desk.status_text(status) == "工作人员 李敏（工号 0123）已接入，请直接输入您的问题。"  # the name staff chose
    desk.reply(first, "alice", "您好，请带户口簿到派出所补领。")
    with pytest.raises(DeskError, match="not handled by bob"):
        desk.reply(first, "bob", "抢答")
    assert [(m["role"], m["content"]) for m in desk.messages(first)][-2:] == [
        ("user", "我的身份证丢了，手机[手机号已隐藏]"), ("agent", "您好，请带户口簿到派出所补领。")]
    assert desk.messages(first)[-1]["author"] == "alice"  # staff see the login
    told = desk.messages(first, citizen=True)
    assert told[-1]["author"] == "李敏（工号 0123）"
    assert "工作人员 李敏（工号 0123）已接入。" in [m["content"] for m in told]

    desk.hand_back(first, "alice")
    assert desk.status(first).state == "bot"
    again, _, _ = desk.ask(first, "办护照要多少钱")
    assert again is not None and again.decision == "answer" and again.citations[0].guide_id == "demo-passport"

    desk.claim(desk.queue()[0].handoff_id, "bob")  # bob has no name to show: citizens read 工作人员
    assert desk.status(second).agent is None and desk.messages(second)[-1]["content"] == "工作人员已接入。"
    assert desk.status_text(desk.status(second)) == "工作人员已接入，请直接输入您的问题。"
    desk.close(second, "bob")
    assert desk.status(second).state == "closed" and desk.queue() == []


def test_no_agent_online_gives_a_callback_ticket(desk: Desk, clock: Clock) -> None:
    first, second = desk.start("web"), desk.start("web")
    answer, status, _ = desk.ask(first, "人工服务")
    assert (status.state, status.ticket) == ("callback", "HB202611230001")
    assert answer is not None and answer.text == ("好的。现在暂无工作人员在线（或已过服务时间），已为您登记，编号 "
                                                  "HB202611230001。工作人员上班后会在本对话中回复您；急事请拨打 12345 "
                                                  "政务服务便民热线。")
    assert desk.request_handoff(second).ticket == "HB202611230002"
    desk.heartbeat("alice")
    clock.now += dt.timedelta(minutes=5)  # alice's console stopped polling: offline again
    assert desk.request_handoff(desk.start("web")).state == "callback"


def test_a_request_left_while_nobody_was_online_is_taken_later(desk: Desk, clock: Clock) -> None:
    conversation = desk.start("web")
    answer, status, _ = desk.ask(conversation, "转人工，我的护照申请怎么还没好")
    assert answer is not None and "工作人员上班后会在本对话中回复您" in answer.text and "回电" not in answer.text
    at_kiosk, _, _ = desk.ask(desk.start("kiosk"), "转人工", hall_id="hall-city")  # they will walk away
    assert at_kiosk is not None and "本对话" not in at_kiosk.text and "大厅咨询台" in at_kiosk.text
    assert desk.queue() == []
    clock.now += dt.timedelta(hours=15)  # the next morning
    desk.heartbeat("alice")
    left, _ = desk.queue(left=True)
    assert (left.conversation_id, left.ticket, left.waiting_seconds) == (conversation, status.ticket, 15 * 3600)
    assert left.last_question == "转人工，我的护照申请怎么还没好"
    assert desk.claim(left.handoff_id, "alice") == conversation
    with pytest.raises(ClaimConflictError):
        desk.claim(left.handoff_id, "bob")
    assert len(desk.queue(left=True)) == 1 and desk.status(conversation).agent == "李敏（工号 0123）"
    desk.reply(conversation, "alice", "您好，您的护照已制证，可到出入境窗口领取。")
    desk.close(conversation, "alice")
    assert [m["role"] for m in desk.messages(conversation)][-3:] == ["system", "agent", "system"]


def test_a_citizen_left_waiting_when_the_agents_go_gets_a_ticket_and_the_bot_again(desk: Desk, clock: Clock) -> None:
    desk.heartbeat("alice")
    conversation = desk.start("kiosk")
    _, status, _ = desk.ask(conversation, "转人工")
    assert status.state == "waiting"
    clock.now += dt.timedelta(seconds=30)
    silent, status, _ = desk.ask(conversation, "还要等多久")
    assert silent is None and status.state == "waiting"  # alice is still there
    clock.now += dt.timedelta(minutes=5)  # alice closed her console
    status = desk.status(conversation)  # what a waiting kiosk polls
    assert (status.state, status.ticket) == ("callback", "HB202611230001")
    answer, status, _ = desk.ask(conversation, "办护照要多少钱")
    assert answer is not None and answer.decision == "answer" and status.state == "callback"
    notes = [m["content"] for m in desk.messages(conversation) if m["role"] == "system"]
    assert notes[-1] == "工作人员暂时不在线，已为您登记留言，编号 HB202611230001，智能助手继续为您解答。"
    assert [e.conversation_id for e in desk.queue(left=True)] == [conversation] and desk.queue() == []


def test_a_citizen_who_went_away_leaves_a_ticket_and_no_longer_counts_in_line(desk: Desk, clock: Clock) -> None:
    desk.heartbeat("alice")
    gone, staying = desk.start("web"), desk.start("kiosk")
    desk.request_handoff(gone)  # then the browser is closed: nothing asks about it any more
    desk.request_handoff(staying)
    assert desk.status(staying).position == 2
    for turn in range(8):  # the page waiting for a person asks every 2 s (here: every 90 s), the console too
        clock.now += dt.timedelta(seconds=90)
        desk.heartbeat("alice")
        if turn < 4:  # an API channel may poll the messages instead of the state
            desk.messages(staying, citizen=True)
        else:
            assert desk.status(staying).state == "waiting"
        assert [e.conversation_id for e in desk.queue()][-1] == staying
    assert desk.status(staying).position == 1  # the one who left no longer stands in front
    assert [e.conversation_id for e in desk.queue()] == [staying]
    left = desk.queue(left=True)
    assert [(e.conversation_id, e.ticket) for e in left] == [(gone, "HB202611230001")]  # nothing lost: a 留言
    assert desk.status(gone).state == "callback"  # coming back later, the citizen finds the ticket
    notes = [m["content"] for m in desk.messages(gone, citizen=True) if m["role"] == "system"]
    assert notes == ["您离开了一段时间，已为您登记留言，编号 HB202611230001，工作人员会在本对话中回复您；"
                     "智能助手继续为您解答。"]
    answer, status, _ = desk.ask(gone, "办护照要多少钱")
    assert answer is not None and answer.decision == "answer" and status.state == "callback"
    assert desk.claim(left[0].handoff_id, "alice") == gone  # and an agent answers it in the conversation


def test_an_agent_who_left_releases_the_conversation(desk: Desk, clock: Clock) -> None:
    desk.heartbeat("alice")
    conversation = desk.start("web")
    desk.ask(conversation, "转人工")
    desk.claim(desk.queue()[0].handoff_id, "alice")
    clock.now += dt.timedelta(seconds=60)
    silent, _, _ = desk.ask(conversation, "在吗")
    assert silent is None  # alice claimed a minute ago: still hers
    clock.now += dt.timedelta(minutes=5)
    answer, status, _ = desk.ask(conversation, "办护照要多少钱")
    assert answer is not None and answer.decision == "answer"
    assert status.state == "callback" and status.ticket == "HB202611230001"
    assert desk.mine("alice") == []
    with pytest.raises(DeskError, match="not handled by alice"):
        desk.reply(conversation, "alice", "我回来了")
    left = desk.queue(left=True)
    assert [(e.conversation_id, e.last_question) for e in left] == [(conversation, "办护照要多少钱")]
    assert desk.claim(left[0].handoff_id, "bob") == conversation  # anyone takes it up later


def test_a_reloaded_console_finds_its_conversations_and_opens_them_again(desk: Desk) -> None:
    desk.heartbeat("alice")
    first, second = desk.start("web"), desk.start("web")
    desk.ask(first, "转人工")
    desk.ask(second, "我要投诉")
    handoff = desk.queue()[0].handoff_id
    assert desk.claim(handoff, "alice") == first
    assert [(e.handoff_id, e.conversation_id) for e in desk.mine("alice")] == [(handoff, first)]
    assert desk.mine("bob") == []
    assert desk.claim(handoff, "alice") == first  # opened again, not a conflict
    with pytest.raises(ClaimConflictError):
        desk.claim(handoff, "bob")
    assert [m["content"] for m in desk.messages(first)].count("工作人员 李敏（工号 0123）已接入。") == 1
    desk.hand_back(first, "alice")
    assert desk.mine("alice") == []
    with pytest.raises(ClaimConflictError):
        desk.claim(handoff, "alice")  # ended: nothing to open


def test_asking_twice_while_nobody_is_online_keeps_one_ticket(desk: Desk) -> None:
    conversation = desk.start("web")
    first = desk.request_handoff(conversation, "requested")
    second = desk.request_handoff(conversation, "complaint")
    assert first.ticket == second.ticket == "HB202611230001" and second.reason == "complaint"
    assert len(desk.queue(left=True)) == 1


def test_requests_left_at_the_same_moment_get_distinct_tickets(desk: Desk) -> None:
    conversations = [desk.start("web") for _ in range(8)]
    start = threading.Barrier(len(conversations))

    def leave(conversation: str) -> str | None:
        start.wait()
        return desk.request_handoff(conversation).ticket

    with concurrent.futures.ThreadPoolExecutor(len(conversations)) as pool:
        tickets = list(pool.map(leave, conversations))
    assert sorted(tickets) == [f"HB20261123{n:04d}" for n in range(1, 9)]  # type: ignore[type-var]


def test_a_citizen_who_leaves_withdraws_the_request_and_the_agent_is_told(desk: Desk) -> None:
    desk.heartbeat("alice")
    waiting, talking = desk.start("kiosk"), desk.start("web")
    desk.request_handoff(waiting)
    desk.request_handoff(talking)
    desk.claim(desk.queue()[-1].handoff_id, "alice")
    assert desk.leave(waiting).state == "closed"  # 重新开始 at the kiosk: nobody will read a reply
    assert desk.queue() == [] and desk.mine("alice")[0].conversation_id == talking
    assert desk.leave(talking).state == "closed"
    assert desk.mine("alice") == [] and desk.messages(talking)[-1]["content"] == "群众已离开，本次对话已结束。"
    with pytest.raises(DeskError, match="not handled by alice"):
        desk.reply(talking, "alice", "您还在吗？")
    answer, status, _ = desk.ask(waiting, "办护照要多少钱")  # were the citizen back, the bot answers
    assert answer is not None and status.state == "closed" and "收费标准" in answer.text
    assert desk.leave(waiting).state == "closed"  # nothing to withdraw: no change

    desk.heartbeat("alice")
    left = desk.start("web")
    with desk.sessions.begin() as db:  # nobody online: a request left with a ticket, answered later
        db.query(AgentPresence).delete()
    ticket = desk.request_handoff(left).ticket
    desk.leave(left)
    assert [e.ticket for e in desk.queue(left=True)] == [ticket]
    report = desk.report(MONDAY_10 - dt.timedelta(days=1))
    assert report["handoffs"] == {"withdrawn": 1, "closed": 1, "callback": 1}


def test_after_hours_gives_a_callback_ticket_even_with_an_agent(desk: Desk, clock: Clock) -> None:
    clock.now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)  # 20:00 Beijing time
    desk.heartbeat("alice")
    assert desk.request_handoff(desk.start("web")).state == "callback"


def test_two_failed_turns_queue_the_conversation(desk: Desk) -> None:
    desk.heartbeat("alice")
    conversation = desk.start("web")
    first, _, _ = desk.ask(conversation, "帮我写首诗")
    assert first is not None and first.decision == "refuse"
    second, status, _ = desk.ask(conversation, "今天天气怎么样")
    assert second is not None and second.handoff_reason == "repeated_failure" and status.state == "waiting"


def test_feedback_is_stored(desk: Desk) -> None:
    conversation = desk.start("web")
    _, _, message_id = desk.ask(conversation, "办护照要多少钱")
    feedback_id = desk.feedback(conversation, "down", message_id=message_id, reason="不够详细，电话13812345678")
    with desk.sessions() as db:
        row = db.get(Feedback, feedback_id)
        assert (row.rating, row.message_id, row.reason) == ("down", message_id, "不够详细，电话[手机号已隐藏]")
    with pytest.raises(DeskError, match="rating must be"):
        desk.feedback(conversation, "meh")
    with pytest.raises(DeskError, match="no conversation"):
        desk.ask("nope", "你好")


def test_purge_deletes_conversations_past_retention_and_keeps_the_rest(desk: Desk, clock: Clock) -> None:
    old = desk.start("web")
    _, _, message_id = desk.ask(old, "办护照要多少钱")
    desk.feedback(old, "up", message_id=message_id)
    desk.request_handoff(old)  # nobody online: a callback ticket
    waiting = desk.start("kiosk")
    desk.heartbeat("alice")
    desk.request_handoff(waiting)
    clock.now += dt.timedelta(days=182)  # a Monday again, in office hours
    recent = desk.start("web")
    desk.ask(recent, "办居住证要带什么")

    planned = desk.purge(dt.timedelta(days=180), dry_run=True)
    assert planned == {"conversations": 1, "messages": 3, "handoffs": 1, "feedback": 1}
    assert len(desk.messages(old)) == 3  # a dry run deletes nothing
    assert desk.purge(dt.timedelta(days=180)) == planned
    with pytest.raises(DeskError, match="no conversation"):
        desk.messages(old)
    desk.heartbeat("alice")  # (with nobody online, a status check would turn it into a request left)
    assert desk.status(waiting).state == "waiting"  # still in the queue: kept whatever its age
    assert [m["role"] for m in desk.messages(recent)] == ["user", "assistant"]
    with desk.sessions() as db:
        assert db.scalars(select(Feedback)).all() == []
    assert desk.purge(dt.timedelta(days=180)) == dict.fromkeys(planned, 0)
    with pytest.raises(DeskError, match="must be positive"):
        desk.purge(dt.timedelta(0))


def test_purge_works_in_batches(desk: Desk, clock: Clock) -> None:
    for _ in range(5):
        desk.ask(desk.start("web"), "你好")
    clock.now += dt.timedelta(days=2)
    assert desk.purge(dt.timedelta(days=1), batch=2)["conversations"] == 5


def test_the_server_keeps_purging_until_stopped(desk: Desk, clock: Clock) -> None:
    desk.start("web")
    clock.now += dt.timedelta(days=2)
    stop = threading.Event()
    worker = threading.Thread(target=keep_purging, args=(desk, dt.timedelta(days=1), stop, dt.timedelta(hours=1)))
    worker.start()
    for _ in range(200):  # the first purge runs at once
        if desk.purge(dt.timedelta(days=1), dry_run=True)["conversations"] == 0:
            break
        time.sleep(0.01)
    stop.set()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert desk.purge(dt.timedelta(days=1), dry_run=True)["conversations"] == 0


def test_purge_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cli import main

    url = f"sqlite:///{tmp_path / 'banshi.sqlite'}"
    then = Clock(dt.datetime.now(dt.UTC) - dt.timedelta(days=200))
    desk = Desk(url, lambda *_: None, clock=then)  # type: ignore[arg-type,return-value]
    old = desk.start("web")
    desk.request_handoff(old)
    then.now += dt.timedelta(days=195)
    desk.start("web")  # 5 days old: kept
    assert main(["purge", "--data-dir", str(tmp_path), "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("would delete 1 conversations untouched for 180 days: 1 messages")
    assert main(["purge", "--data-dir", str(tmp_path), "--days", "3"]) == 0
    assert capsys.readouterr().out.startswith("deleted 2 conversations untouched for 3 days")
    assert main(["purge", "--data-dir", str(tmp_path), "--days", "0"]) == 2
    assert "--days must be at least 1" in capsys.readouterr().err
    assert main(["purge", "--data-dir", str(tmp_path / "typo")]) == 1
    assert "error: no data dir" in capsys.readouterr().err and not (tmp_path / "typo").exists()


def test_report_shows_what_to_improve(desk: Desk, clock: Clock) -> None:
    old = desk.start("web")
    desk.ask(old, "帮我写首诗")  # before the window
    clock.now += dt.timedelta(days=10)
    since = clock.now - dt.timedelta(days=7)
    web, kiosk = desk.start("web"), desk.start("kiosk")
    _, _, answered = desk.ask(web, "办护照要多少钱")
    desk.ask(web, "今天天气怎么样，我手机13812345678")
    desk.ask(kiosk, "今天天气怎么样，我手机13812345678")
    desk.feedback(web, "down", message_id=answered, reason="不够详细")
    desk.feedback(kiosk, "up")
    desk.request_handoff(kiosk)  # nobody online: a callback ticket

    report = desk.report(since)
    assert (report["conversations"], report["channels"], report["questions"]) == (2, {"web": 1, "kiosk": 1}, 3)
    assert report["decisions"] == {"answer": 1, "refuse": 2}
    assert report["handoffs"] == {"callback": 1} and report["handoff_reasons"] == {"requested": 1}
    assert report["ratings"] == {"up": 1, "down": 1}
    assert report["unanswered"] == [("今天天气怎么样，我手机[手机号已隐藏]", 2)]  # stored redacted
    assert report["top_guides"][0][1] == 1 and "护照" in report["top_guides"][0][0]
    assert report["rated_down"] == [{"question": "办护照要多少钱", "reason": "不够详细", "decision": "answer",
                                     "guide": report["top_guides"][0][0]}]


def test_report_command(tmp_path: Path, capsys: pytest.CaptureFixture[str], demo_assistant) -> None:  # type: ignore[no-untyped-def]
    from cli import main

    desk = Desk(f"sqlite:///{tmp_path / 'banshi.sqlite'}",
                lambda question, session, hall: demo_assistant.ask(question, session, hall_id=hall))
    conversation = desk.start("web")
    desk.ask(conversation, "帮我写首诗")
    desk.ask(conversation, "结婚登记在哪办")
    desk.ask(conversation, "谢谢")
    assert main(["report", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "会话 1 个（web 1），提问 3 条" in out
    assert "智能助手的答复（按条）：回答 1，反问 0，未能回答 1，转人工 0，寒暄 1" in out
    assert "未能回答的问题（可据此补充指南或同义词）：\n   1  帮我写首诗" in out
    assert main(["report", "--data-dir", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unanswered"] == [["帮我写首诗", 1]]
    assert main(["report", "--data-dir", str(tmp_path), "--days", "0"]) == 2


def test_turns_of_one_conversation_run_one_at_a_time(tmp_path: Path, demo_assistant) -> None:  # type: ignore[no-untyped-def]
    running: dict[str, int] = {}
    overlaps: list[str] = []
    guard = threading.Lock()

    def slow_bot(question, session, hall):  # type: ignore[no-untyped-def]
        with guard:
            running[session.id] = running.get(session.id, 0) + 1
            if running[session.id] > 1:
                overlaps.append(session.id)
        time.sleep(0.2)  # long enough for the other threads to try
        with guard:
            running[session.id] -= 1
        return demo_assistant.ask(question, session, hall_id=hall)

    desk = Desk(f"sqlite:///{tmp_path / 'desk.sqlite'}", slow_bot)
    first, second = desk.start("web"), desk.start("kiosk")
    questions = [(first, "办居住证要带什么"), (first, "要多久"), (first, "在哪办"),
                 (first, "办护照要多少钱"), (second, "办护照要多少钱")]
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        list(pool.map(lambda turn: desk.ask(*turn), questions))
    assert overlaps == []
    roles = [m["role"] for m in desk.messages(first)]
    assert roles == ["user", "assistant"] * 4  # each answer right after its question


def test_turns_of_one_conversation_run_one_at_a_time_across_processes(desk: Desk, demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """Two app processes on one database (two desks here): on PostgreSQL a turn holds the conversation
    in the database too, so a kiosk retry that reaches the other process waits for the first turn."""
    running: list[str] = []
    overlaps: list[int] = []
    guard = threading.Lock()

    def slow_bot(question, session, hall):  # type: ignore[no-untyped-def]
        with guard:
            running.append(question)
            overlaps.append(len(running))
        time.sleep(0.3)
        with guard:
            running.remove(question)
        return demo_assistant.ask(question, session, hall_id=hall)

    url = desk.sessions.kw["bind"].url.render_as_string(hide_password=False)
    first, second = Desk(url, slow_bot), Desk(url, slow_bot)  # each with its own engine and in-process locks
    conversation = first.start("kiosk")
    turns = [(first, "办居住证要带什么"), (second, "要多久"), (first, "在哪办"), (second, "收费吗")]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda turn: turn[0].ask(conversation, turn[1]), turns))
    roles = [m["role"] for m in first.messages(conversation)]
    if desk.sessions.kw["bind"].dialect.name == "postgresql":
        assert max(overlaps) == 1 and roles == ["user", "assistant"] * 4
    else:  # SQLite serves one process; two desks on one file are not held apart (docs/operations.md says so)
        assert len(roles) == 8


def test_a_slow_turn_holds_up_no_other_conversation(tmp_path: Path, demo_assistant) -> None:  # type: ignore[no-untyped-def]
    release = threading.Event()

    def bot(question, session, hall):  # type: ignore[no-untyped-def]
        if question == "稍等":
            release.wait(30)  # a slow LLM call
        return demo_assistant.ask(question, session, hall_id=hall)

    desk = Desk(f"sqlite:///{tmp_path / 'desk.sqlite'}", bot)
    slow, *others = [desk.start("web") for _ in range(65)]  # more conversations than any fixed set of stripes
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        held = pool.submit(desk.ask, slow, "稍等")
        for conversation in others:
            desk.ask(conversation, "办护照要多少钱")
        assert not held.done()  # every other citizen was answered while the slow turn still ran
        release.set()
        held.result()
    assert len(desk.turns) == 0  # no lock is kept for a conversation nobody is talking in


def test_settings_reject_negative_limits_and_zero_threads() -> None:
    from pydantic import ValidationError

    from assistant.settings import Settings

    for bad in ({"rate_limit": -1}, {"retention_days": -1}, {"embed_threads": 0}, {"embed_batch": 0}):
        with pytest.raises(ValidationError, match=next(iter(bad))):
            Settings(**bad)
    assert (Settings(rate_limit=0).rate_limit, Settings(retention_days=0).retention_days) == (0, 0)
    for name in (" ", "李" * 33):
        with pytest.raises(ValidationError, match="the name shown for 'alice' must be 1 to 32 characters"):
            Settings(staff_names={"alice": name})
    assert Settings(staff_names={"alice": " 李敏 "}).staff_names == {"alice": "李敏"}


def test_what_a_transaction_read_still_holds_when_it_writes(desk: Desk, clock: Clock) -> None:
    """The server reads (are agents online?), then writes on what it read; the console's process writes
    meanwhile. On SQLite every transaction takes the write lock as it begins, so the console waits for it
    (the driver alone would begin only at the first write, and a second read would see the console's row)."""
    url = desk.sessions.kw["bind"].url.render_as_string(hide_password=False)
    console = Desk(url, lambda *args: None, clock=clock)  # type: ignore[arg-type,return-value]
    wrote = threading.Event()
    writer = threading.Thread(target=lambda: (console.heartbeat("alice"), wrote.set()))
    with desk.sessions.begin() as db:
        before = list(db.scalars(select(AgentPresence.agent)))
        writer.start()
        wrote.wait(1.0)  # SQLite: waiting for this transaction; PostgreSQL: written at once
        again = list(db.scalars(select(AgentPresence.agent)))
        db.add(AgentPresence(agent="bob", last_seen=clock()))
    writer.join(20)
    assert wrote.is_set()
    if desk.sessions.kw["bind"].dialect.name == "sqlite":
        assert before == again == []
    with desk.sessions() as db:
        assert sorted(db.scalars(select(AgentPresence.agent))) == ["alice", "bob"]


def test_many_turns_at_once_from_two_processes_all_stored(desk: Desk) -> None:
    url = desk.sessions.kw["bind"].url.render_as_string(hide_password=False)
    console = Desk(url, lambda *args: None)  # type: ignore[arg-type,return-value]
    conversations = [desk.start("web") for _ in range(12)]

    def citizen(conversation: str) -> None:
        for question in ("办护照要多少钱", "要多久", "在哪办"):
            desk.ask(conversation, question)

    def agent(name: str) -> None:
        for _ in range(20):
            console.heartbeat(name)
            console.queue()

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        done = [pool.submit(citizen, c) for c in conversations] + [pool.submit(agent, f"a{i}") for i in range(4)]
        for future in done:
            future.result()  # none failed
    assert [len(desk.messages(c)) for c in conversations] == [6] * 12


def test_new_messages_are_counted_once_committed(desk: Desk) -> None:
    """What a long poll waits on: a message counts for its conversation when its transaction commits."""
    conversation, other = desk.start("web"), desk.start("web")
    desk.ask(conversation, "办护照要多少钱")  # the question and the answer
    assert (desk.changes.count(conversation), desk.changes.count(other)) == (2, 0)
    with pytest.raises(RuntimeError), desk.sessions.begin() as db:
        desk._add(db, conversation, "agent", "未发出")
        assert desk.changes.count(conversation) == 2  # not before the commit
        raise RuntimeError("rolled back")
    assert desk.changes.count(conversation) == 2
    desk.leave(other)  # nothing to end: no message
    assert desk.changes.count(other) == 0


def test_processes_starting_together_on_one_postgresql_all_start() -> None:
    """Several servers started at once on an empty PostgreSQL database: one creates the tables, none fails."""
    import threading

    from sqlalchemy import create_engine

    from desk.store import make_sessionmaker

    url = os.environ.get("BANSHI_TEST_DATABASE_URL", "")
    if not url:
        pytest.skip("set BANSHI_TEST_DATABASE_URL to a PostgreSQL database to run this against it")
    for _ in range(3):  # without the lock, every round failed here
        engine = create_engine(url)
        Base.metadata.drop_all(engine)
        engine.dispose()
        start, errors = threading.Barrier(4), []

        def serve(start: threading.Barrier, errors: list[str]) -> None:
            start.wait()
            try:
                make_sessionmaker(url).kw["bind"].dispose()
            except Exception as err:  # noqa: BLE001 - any failure to start is what this test is about
                errors.append(f"{type(err).__name__}: {err}")

        threads = [threading.Thread(target=serve, args=(start, errors)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
