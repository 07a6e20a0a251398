"""The served app through FastAPI's TestClient, and the assistant's minimal grounded answer."""

from __future__ import annotations

import concurrent.futures
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models import FakeListChatModel

from assistant.build import build_search
from assistant.service import Assistant
from assistant.settings import Settings
from cli import main
from knowledge.index import read_generation
from tests.conftest import ingested, live_server
from web.server import create_app


@pytest.fixture()
def data_dir(tmp_path: Path, pack_copy: Path) -> Path:
    data = tmp_path / "data"
    ingested(data, pack_copy)
    return data


def test_answer_is_built_from_the_guide_and_cites_it(data_dir: Path) -> None:
    assistant = Assistant(build_search(Settings(data_dir=data_dir)))
    answer = assistant.ask("办居住证要带什么材料")
    assert answer.decision == "answer"
    assert answer.text.splitlines()[:4] == [
        "**居住证申领**：需要准备居民身份证、居住登记凭证。",
        "**申请材料**",
        "1. 居民身份证（原件，1份）",
        "2. 居住登记凭证（原件，1份）（可免提交）：可由公安机关内部核验",
    ]
    assert answer.citations[0].guide_id == "t-residence-permit"
    assert [c.section for c in answer.citations][:2] == ["name", "materials"]
    assert answer.citations[0].url == "https://zwfw.example.org/guide/t-residence-permit"
    assert len(answer.speech) <= 120 and "http" not in answer.speech


def test_missing_fields_are_said_to_be_unstated(data_dir: Path) -> None:
    answer = Assistant(build_search(Settings(data_dir=data_dir))).ask("食品经营许可要多久")
    assert answer.citations[0].guide_id == "t-food-license"
    assert "指南未载明办理时限，可致电 0000-1110002 咨询。" in answer.text
    overview = Assistant(build_search(Settings(data_dir=data_dir))).ask("食品经营许可")
    assert "收费标准：不收费" in overview.text and "**咨询电话**：0000-1110002。" in overview.text


def test_out_of_scope_is_refused_politely(data_dir: Path) -> None:
    answer = Assistant(build_search(Settings(data_dir=data_dir))).ask("今天天气怎么样")
    assert answer.decision == "refuse" and answer.citations == []
    assert "没有找到" in answer.text and "12345" in answer.text


def test_server_health_and_chat_page(data_dir: Path) -> None:
    with TestClient(create_app(Settings(data_dir=data_dir))) as client:
        health = client.get("/healthz").json()
        assert {k: health[k] for k in ("status", "guides", "themes", "reload_error")} == {
            "status": "ok", "guides": 3, "themes": 1, "reload_error": None}
        assert health["chunks"] > 0 and health["generation"] == read_generation(data_dir)[1]
        page = client.get("/")
        assert page.status_code == 200 and "gradio" in page.text.lower()
        # A database that stops answering takes the server out of a load balancer's rotation.
        from sqlalchemy import create_engine
        from sqlalchemy.orm import sessionmaker

        desk = client.app.state.desk  # type: ignore[attr-defined]
        desk.sessions = sessionmaker(create_engine(f"sqlite:///{data_dir / 'gone' / 'banshi.sqlite'}"))
        broken = client.get("/healthz")
        assert broken.status_code == 503 and broken.json() == {"status": "database unavailable"}


def test_chat_through_gradio_client_on_a_live_server(data_dir: Path) -> None:
    from gradio_client import Client

    app = create_app(Settings(data_dir=data_dir, rate_limit=4))
    with live_server(app) as url:
        client = Client(f"{url}/", verbose=False)

        def last_reply(outputs: tuple) -> str:  # type: ignore[type-arg]
            return str(outputs[2][-1]["content"][0]["text"])

        first = client.predict("办居住证要带什么材料", None, "不限", api_name="/ask")
        conversation = first[1]  # kept in the browser's storage by the page
        reply = last_reply(first)
        assert reply.startswith("**居住证申领**：需要准备居民身份证、居住登记凭证。\n**申请材料**")
        assert "来源：[测试市居住证申领办事指南](https://zwfw.example.org/guide/t-residence-permit)" in reply
        # The chips are the answer's suggestions; a modest match offers 转人工 instead of the last facet.
        third = "转人工" if "请换个说法再问，也可以转人工服务" in reply else "收费吗"
        assert first[4]["samples"] == [["在哪里办"], ["要多久"], [third]]
        assert "<summary>办事卡片：居住证申领</summary>" in first[5]
        assert "<summary>查看完整指南</summary>" in first[5] and "1. 居民身份证（原件，1份）" in first[5]
        follow_up = client.predict("要多久\x00", conversation, "不限", api_name="/ask")  # the dialogue state is kept
        assert "10个工作日（承诺办结时限）" in last_reply(follow_up)
        too_long = client.predict("居住证" * 700, conversation, "不限", api_name="/ask")  # as the API: 2,000 at most
        assert too_long[3] == "您的问题有 2100 字，请精简到 2000 字以内再发送。"
        refusal = client.predict("帮我写首诗", conversation, "不限", api_name="/ask")
        assert last_reply(refusal).startswith("抱歉，我没有找到与您的问题相符的办事指南。")
        _, history, status, _ = client.predict(conversation, api_name="/request_human")
        assert "已为您登记，编号 HB" in status  # nobody at the console: a ticket, and a reply here later
        assert "已为您登记，编号 HB" in history[-1]["content"][0]["text"]  # said in the conversation too
        # Four a minute from this address: the fifth is refused politely, and neither stored nor answered.
        flood = client.predict("办护照要多少钱", conversation, "不限", api_name="/ask")
        assert re.fullmatch(r"您的提问太频繁了，请 \d+ 秒后再试。", flood[3])  # the status line
        stored = client.predict(conversation, api_name="/restore")[1]  # what a reload shows
        assert "办护照要多少钱" not in str(stored) and len(stored) == len(history)
        assert "要多久" in str(stored) and "\\x00" not in str(stored)  # NUL dropped before it was shown or stored
        # The page acts only on conversations it started: an id it was not given here is as good as none.
        bare, _, signature = conversation.rpartition(".")
        kiosk = app.state.desk.start("kiosk")
        for forged in (bare, kiosk, f"{kiosk}.{signature}", f"{bare}.{'0' * 64}"):
            assert client.predict(forged, api_name="/restore")[:2] == (None, []), forged
        # Nor in another browser (another cookie), were the id copied out of this one's storage.
        assert Client(f"{url}/", verbose=False).predict(conversation, api_name="/restore")[:2] == (None, [])
        assert client.predict(conversation, api_name="/restore")[0] == conversation


def test_a_pages_events_sent_before_it_holds_its_conversation_share_one(data_dir: Path) -> None:
    """A fresh page's 转人工 and its first question arrive together, neither with a token yet (the page gets
    it from the first to come back): both go to one conversation, not the request to an empty one."""
    from gradio_client import Client

    app = create_app(Settings(data_dir=data_dir))
    with live_server(app) as url:
        desk = app.state.desk
        page = Client(f"{url}/", verbose=False)
        token, _, status, _ = page.predict(None, api_name="/request_human")  # processed first, as it can be
        assert "已为您登记，编号 HB" in status
        asked = page.predict("办居住证要带什么材料", None, "不限", api_name="/ask")  # sent with no token too
        assert asked[1] == token
        (left,) = desk.queue(left=True)
        said = [(m["role"], m["content"]) for m in desk.messages(left.conversation_id, citizen=True)]
        assert [role for role, _ in said] == ["system", "user", "assistant"]
        assert said[1][1] == "办居住证要带什么材料"
        # Another page (another session) without a token is another citizen: a conversation of its own.
        other = Client(f"{url}/", verbose=False).predict("办护照要多少钱", None, "不限", api_name="/ask")
        assert other[1] != token
        # Cleared, the page's next question starts afresh, even without a token.
        page.predict(token, api_name="/clear")
        again = page.predict("办护照要多少钱", None, "不限", api_name="/ask")
        assert again[1] not in (token, other[1])


def test_a_waiting_citizen_learns_when_the_agents_are_gone(data_dir: Path, tmp_path: Path) -> None:
    """The chat's poll notices it (no message needs to arrive): the request becomes a ticket."""
    import datetime as dt

    from gradio_client import Client
    from sqlalchemy import update

    from desk.store import AgentPresence

    app = create_app(Settings(data_dir=data_dir, database_url=f"sqlite:///{tmp_path / 'own.sqlite'}"))
    desk = app.state.desk
    with live_server(app) as url:
        client = Client(f"{url}/", verbose=False)
        desk.heartbeat("alice")
        conversation, _, status, _ = client.predict(None, api_name="/request_human")
        assert status.startswith("已为您转接人工服务")
        assert client.predict(conversation, api_name="/poll") is not None  # nothing new yet
        with desk.sessions.begin() as db:  # alice's console stopped polling two minutes ago
            db.execute(update(AgentPresence).values(last_seen=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)))
        polled = str(client.predict(conversation, api_name="/poll"))
        assert "工作人员暂时不在线，已为您登记留言，编号 HB" in polled and "智能助手继续为您解答" in polled


class _SlowEndpoint(FakeListChatModel):
    """An LLM endpoint that answers only once two calls are in flight at the same time."""

    barrier: Any = None

    def _call(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.barrier.wait()  # broken after 20 s alone: the rephrasing fails and the grounded text is served
        return super()._call(*args, **kwargs)


def test_one_citizens_slow_answer_does_not_hold_up_another(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import web.server
    from assistant.llm import Rephraser

    endpoint = _SlowEndpoint(responses=["您好，请按办事指南准备材料。"], barrier=threading.Barrier(2, timeout=20))
    monkeypatch.setattr(web.server, "build_rephraser",
                        lambda settings, assistant: Rephraser(endpoint, assistant.sources))
    from gradio_client import Client

    with live_server(create_app(Settings(data_dir=data_dir))) as url:
        def ask(question: str) -> str:
            outputs = Client(f"{url}/", verbose=False).predict(question, None, "不限", api_name="/ask")
            return str(outputs[2][-1]["content"][0]["text"])

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            replies = list(pool.map(ask, ["办居住证要带什么材料", "食品经营许可要带什么材料"]))
    assert all(r.startswith("您好，请按办事指南准备材料。") for r in replies), replies  # both were rephrased


def test_the_chat_says_what_it_answers_from() -> None:
    from knowledge.schema import Pack
    from web.chat import knowledge_notice

    city = Pack(name="city", title="某市政务服务知识包")
    demo = Pack(name="demo", title="示例市政务服务知识包（示例数据）", region="示例市", sample=True)
    assert knowledge_notice([city]) == "当前知识库：某市政务服务知识包。"
    assert knowledge_notice([city, demo]) == "当前知识库含示例数据（示例市），不是真实城市的指南。"
    assert knowledge_notice([]) == ""  # imported exports only: each answer cites its source and date


def test_start_up_says_what_is_on_and_never_a_secret(tmp_path: Path) -> None:
    from cli import feature_lines

    bare = "\n".join(feature_lines(Settings(data_dir=tmp_path, retention_days=0)))
    assert "no accounts (BANSHI_STAFF unset)" in bare and "no channel keys" in bare and "kiosk /kiosk: no key" in bare
    assert "LLM rephrasing: off" in bare and "retention: off" in bare
    full = "\n".join(feature_lines(Settings(
        data_dir=tmp_path, staff={"alice": "pbkdf2$secret-hash"}, api_keys={"kiosk-city": "channel-secret"},
        kiosk_key="kiosk-secret", llm_base_url="https://user:llm-secret@llm.example/v1?key=llm-secret",
        llm_model="qwen", llm_api_key="llm-secret", database_url="postgresql://u:db-secret@db/banshi")))
    assert "1 account(s) alice" in full and "1 key(s) for kiosk-city" in full and "kiosk /kiosk: key set" in full
    assert "qwen at llm.example" in full and "database: postgresql" in full and "after 180 days" in full
    assert "secret" not in full


def test_search_marks_the_hits_it_would_not_answer_from(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    marks = {}
    for question in ("居住证要什么材料", "今天天气怎么样"):
        assert main(["search", question, "--data-dir", str(data_dir), "-k", "3", "--json"]) == 0
        found = json.loads(capsys.readouterr().out)
        assert all(h["below_threshold"] == (h["confidence"] < found["refuse_below"]) for h in found["hits"])
        assert main(["search", question, "--data-dir", str(data_dir), "-k", "3"]) == 0
        lines = [line for line in capsys.readouterr().out.splitlines() if re.match(r"^ *\d+\. ", line)]
        assert [("✗ 置信度低于" in line) for line in lines] == [h["below_threshold"] for h in found["hits"]]
        marks[question] = [h["below_threshold"] for h in found["hits"]]
    assert marks["居住证要什么材料"][0] is False  # the guide it answers from
    assert marks["今天天气怎么样"] and all(marks["今天天气怎么样"])  # nothing it would answer from


def test_ask_takes_a_district_by_its_short_name_and_refuses_an_unknown_one(
        data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`banshi ask --region 东区` is the citizen's district, as the API reads it; a region the knowledge does not
    have is an error that lists those it has, not a search that finds nothing."""
    question = "居住证在哪办"
    answers = {}
    for region in ("东区", "测试市东区"):
        capsys.readouterr()
        assert main(["ask", question, "--data-dir", str(data_dir), "--region", region, "--json"]) == 0
        answers[region] = json.loads(capsys.readouterr().out)
    assert answers["东区"]["decision"] == "answer" and "东区派出所" in answers["东区"]["text"].split("\n")[0]
    assert answers["东区"]["text"] == answers["测试市东区"]["text"]
    assert main(["ask", question, "--data-dir", str(data_dir), "--region", "火星区"]) == 2
    assert "unknown region '火星区'" in capsys.readouterr().err
