"""The staff console's pages in a real browser (headless Debian Chromium driven by Playwright): claiming the
oldest 留言, claiming by a click on a row, hit testing, and saving a 差评 as an evaluation case.

The tests run in order on one server: the first needs a request left while no console was open.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.settings import Settings
from desk.staff import hash_password
from evals.cases import load_cases
from tests.conftest import DEMO_PACK, ingested, live_server
from tests.test_browser import _console, _shot, browser  # noqa: F401 - the browser fixture is used by name
from web.server import create_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data = tmp_path_factory.mktemp("console-browser-data")
    ingested(data, DEMO_PACK)
    return Settings(data_dir=data, staff={"alice": hash_password("alice-password")}, kiosk_key="kiosk-key")


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[str]:
    with live_server(create_app(settings)) as url:
        yield url


def _api(server: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(f"{server}/api/v1/{path}", method="POST", data=json.dumps(body).encode(),
                                     headers={"X-API-Key": "kiosk-key", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)  # type: ignore[no-any-return]


def _cells(table, text: str):  # type: ignore[no-untyped-def]
    """The cells of the table's row that shows ``text`` (Gradio's table draws rows as ARIA grid rows)."""
    return table.locator("[role=row]").filter(has_text=text).locator("[role=gridcell]")


def test_claiming_the_oldest_takes_a_request_left_when_nobody_waits(server: str, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from playwright.sync_api import expect

    asked = _api(server, "ask", {"question": "社保卡丢了怎么补办"})
    left = _api(server, f"sessions/{asked['session_id']}/handoff", {})
    assert left["state"] == "callback"  # no console open: a request left with a ticket

    agent = _console(browser, server)
    expect(agent.locator("#left")).to_contain_text(left["ticket"], timeout=30_000)
    expect(agent.locator("#queue")).not_to_contain_text("社保卡")
    agent.locator("#claim-next").click()
    expect(agent.locator("#notice")).to_contain_text(f"已认领留言 {left['ticket']}（编号 ", timeout=30_000)
    expect(agent.locator("#transcript")).to_contain_text("社保卡丢了怎么补办", timeout=30_000)
    expect(agent.locator("#left")).not_to_contain_text(left["ticket"], timeout=30_000)
    expect(agent.locator("#mine")).to_contain_text("社保卡丢了怎么补办", timeout=30_000)
    _shot(agent, "console-1-claim-oldest-left")
    agent.locator("#close").click()
    expect(agent.locator("#notice")).to_contain_text("会话已结束", timeout=30_000)
    agent.locator("#claim-next").click()
    expect(agent.locator("#notice")).to_have_text("没有等待的会话，也没有留言。", timeout=30_000)
    agent.close()


def test_clicking_a_row_claims_the_conversation_or_opens_it_again(server: str, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from playwright.sync_api import expect

    agent = _console(browser, server)
    agent.wait_for_timeout(2500)  # one poll of the console: alice is online
    asked = _api(server, "ask", {"question": "办护照要多少钱"})
    assert _api(server, f"sessions/{asked['session_id']}/handoff", {})["state"] == "waiting"

    queue = agent.locator("#queue")
    expect(queue).to_contain_text("办护照要多少钱", timeout=30_000)
    _cells(queue, "办护照要多少钱").first.click()  # on its number
    expect(agent.locator("#notice")).to_contain_text("已认领编号", timeout=30_000)
    expect(agent.locator("#transcript")).to_contain_text("办护照要多少钱", timeout=30_000)
    expect(queue).not_to_contain_text("办护照要多少钱", timeout=30_000)
    _shot(agent, "console-2-row-claimed")

    agent.reload()  # the conversation is listed under 我正在处理的会话; a click opens it again
    mine = agent.locator("#mine")
    expect(mine).to_contain_text("办护照要多少钱", timeout=30_000)
    expect(agent.locator("#transcript")).not_to_contain_text("办护照要多少钱")
    _cells(mine, "办护照要多少钱").last.click()  # on its question
    expect(agent.locator("#notice")).to_contain_text("已认领编号", timeout=30_000)
    expect(agent.locator("#transcript")).to_contain_text("办护照要多少钱", timeout=30_000)
    agent.locator("#hand-back").click()
    expect(agent.locator("#notice")).to_contain_text("已交回智能助手", timeout=30_000)
    agent.close()


def test_hit_testing_shows_the_ranking_and_the_decision(server: str, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from playwright.sync_api import expect

    agent = _console(browser, server)
    dialogs: list[str] = []
    agent.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    agent.get_by_role("tab", name="命中测试").click()
    agent.locator("#hit-question textarea").fill("办居住证要带什么材料")
    agent.locator("#hit-run").click()
    result = agent.locator("#hit-result")
    expect(result).to_contain_text("处理：回答", timeout=30_000)
    expect(result).to_contain_text("按“居住证申领”（demo-residence-permit）回答。")
    first = result.locator("tbody tr").first
    expect(first).to_contain_text("居住证申领")
    expect(first).to_contain_text("demo-residence-permit")
    expect(result.locator("tbody tr")).to_have_count(5)
    expect(result).to_contain_text("低于阈值")
    _shot(agent, "console-3-hit-testing")
    result.get_by_text("智能助手的回答（回答）").click()
    expect(result.locator("details")).to_contain_text("**居住证申领**：需要准备居民身份证")  # its markdown, as text
    _shot(agent, "console-3b-hit-testing-answer")

    hostile = "<img src=x onerror=alert(1)> [点我](https://evil.example/)"
    agent.locator("#hit-question textarea").fill(hostile)
    agent.locator("#hit-question textarea").press("Enter")
    expect(result).to_contain_text(f"问题：{hostile}", timeout=30_000)  # as typed
    expect(result).to_contain_text("处理：拒答")
    expect(result).to_contain_text("低于拒答阈值 0.40")
    expect(result.locator("img")).to_have_count(0)
    expect(result.locator("a")).to_have_count(0)
    assert dialogs == []
    _shot(agent, "console-4-hit-testing-refusal")
    agent.close()


def test_a_disliked_answer_is_saved_as_an_evaluation_case(server: str, browser, settings: Settings) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from playwright.sync_api import expect

    asked = _api(server, "ask", {"question": "结婚登记要带什么"})
    assert asked["answer"]["citations"][0]["guide_id"] == "demo-marriage"
    _api(server, "feedback", {"session_id": asked["session_id"], "message_id": asked["message_id"], "rating": "down",
                              "reason": "不够详细 <b>粗</b> [链接](https://evil.example/)"})

    agent = _console(browser, server)
    agent.get_by_role("tab", name="差评").click()
    table = agent.locator("#disliked")
    expect(table).to_contain_text("结婚登记要带什么", timeout=30_000)
    expect(table).to_contain_text("不够详细 <b>粗</b> [链接](https://evil.example/)")  # as the citizen wrote it
    expect(table.locator("a")).to_have_count(0)
    _cells(table, "结婚登记要带什么").nth(3).click()
    expect(agent.locator("#case-ids textarea")).to_have_value("demo-marriage", timeout=30_000)
    expect(agent.locator("#case-question textarea")).to_have_value("结婚登记要带什么")
    expect(agent.locator("#disliked-answer textarea")).to_have_value(asked["answer"]["text"])

    agent.locator("#case-ids textarea").fill("demo-marriage demo-nowhere")
    agent.locator("#case-save").click()  # an unknown guide id: said, and nothing written
    expect(agent.locator("#case-status")).to_have_text("未保存：知识库中没有这些指南编号：demo-nowhere。",
                                                       timeout=30_000)
    cases: Path = settings.feedback_cases_file()
    assert not cases.exists()

    agent.locator("#case-ids textarea").fill("demo-marriage")
    agent.locator("#case-facts textarea").fill("居民身份证\n签字声明")
    _shot(agent, "console-5-review-form")
    agent.locator("#case-save").click()
    expect(agent.locator("#case-status")).to_contain_text("已存为评测用例 fb-", timeout=30_000)
    expect(table).not_to_contain_text("结婚登记要带什么", timeout=30_000)  # reviewed: listed no more
    expect(agent.locator("#case-question textarea")).to_have_value("")
    _shot(agent, "console-6-review-saved")
    [case] = load_cases([cases])
    assert (case.question, case.expected_ids, case.expected_facts, case.expect, case.channel, case.tags) == (
        "结婚登记要带什么", ["demo-marriage"], ["居民身份证", "签字声明"], "answer", "kiosk", ["feedback"])
    agent.close()
