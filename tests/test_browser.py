"""The whole story in a real browser (headless Debian Chromium driven by Playwright).

A citizen asks and reads a cited answer, asks for a person; an agent logs in, claims, replies; the
citizen sees the reply; the agent hands back; the bot answers again. Screenshots go to
test-artifacts/ so a person can check that the Chinese renders (no tofu).
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.settings import Settings
from desk.staff import hash_password
from tests.conftest import DEMO_PACK, ROOT, ingested, live_server
from web.server import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("browser-data")
    ingested(data, DEMO_PACK)
    settings = Settings(data_dir=data, staff={"alice": hash_password("alice-password")}, staff_names={"alice": "李敏"},
                        kiosk_key="kiosk-key",
                        rate_limit=8)  # the story below asks four times; the last test floods
    # The rate limits' clock stands still: a bucket never refills, so a slow machine floods it as surely.
    with live_server(create_app(settings, clock=lambda: 0.0)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("PLAYWRIGHT_BROWSERS_PATH", "0")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"])
        yield instance
        instance.close()


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _events_sent(page, seconds: float) -> int:  # type: ignore[no-untyped-def]
    """How many events the page sends to the server in ``seconds`` without anyone touching it."""
    sent: list[str] = []

    def seen(request) -> None:  # type: ignore[no-untyped-def]
        if "/queue/join" in request.url:
            sent.append(request.url)

    page.on("request", seen)
    page.wait_for_timeout(seconds * 1000)
    page.remove_listener("request", seen)
    return len(sent)


def _console(browser, server: str):  # type: ignore[no-untyped-def]
    """alice, logged in to the staff console (which polls: she is online while the page is open)."""
    from playwright.sync_api import expect

    agent = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    agent.goto(f"{server}/agent/")
    agent.locator("input[type=password]").wait_for(timeout=30_000)
    agent.locator("input").first.fill("alice")
    agent.locator("input[type=password]").fill("alice-password")
    agent.locator("button").filter(has_text="Login").or_(agent.locator("button").filter(has_text="登录")).first.click()
    expect(agent.locator("#queue")).to_be_visible(timeout=30_000)
    return agent


def _bubble(page, text: str):  # type: ignore[no-untyped-def]
    """The chat bubbles that contain ``text``."""
    return page.locator("#chat .message").filter(has_text=text)


def _ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("#question textarea").fill(question)
    page.locator("#send").click()


def test_citizen_agent_story(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    # Before any agent is online, a kiosk citizen asks for a person: the request is left with a ticket.
    request = urllib.request.Request(f"{server}/api/v1/ask", method="POST",
                                     data=json.dumps({"question": "转人工"}).encode(),
                                     headers={"X-API-Key": "kiosk-key", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        ticket = json.load(response)["handoff"]["ticket"]
    assert ticket.startswith("HB")

    agent = _console(browser, server)
    expect(agent.locator("#left")).to_contain_text(ticket, timeout=30_000)  # left while nobody was online

    citizen = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")  # a phone
    citizen.goto(f"{server}/")
    _ask(citizen, "外地人办居住证要带什么材料")
    chat = citizen.locator("#chat")
    expect(chat).to_contain_text("需要准备居民身份证、居住证相片、合法稳定住所证明等6项材料", timeout=30_000)
    expect(chat.locator("a").filter(has_text="居住证申领办事指南")).to_have_count(1)
    _shot(citizen, "1-citizen-answer")
    assert _events_sent(citizen, 5) == 0  # the bot's conversation: nothing to poll for
    typed = '<a href="https://evil.example/">点此查看</a> [点我](https://evil.example/x) <img src="x">'
    _ask(citizen, typed)
    expect(chat).to_contain_text('<a href="https://evil.example/">点此查看</a> [点我]', timeout=30_000)  # as typed
    expect(chat.locator("a[href*='evil.example']")).to_have_count(0)
    expect(chat.locator("img[src='x']")).to_have_count(0)

    expect(citizen.locator("#chips")).to_be_visible()
    citizen.locator("#handoff").click()
    expect(citizen.locator("#handoff-status")).to_contain_text("已为您转接人工服务", timeout=30_000)
    expect(chat).to_contain_text("已为您转接人工服务")  # the handoff is part of the conversation too
    expect(citizen.locator("#chips")).to_be_hidden()  # nothing to pick while a person is coming
    _shot(citizen, "2-citizen-waiting")
    assert _events_sent(citizen, 5) >= 2  # waiting for a person: the page polls every second

    queue = agent.locator("#queue")
    expect(queue).to_contain_text("群众要求", timeout=30_000)
    agent.locator("#claim-next").click()
    expect(agent.locator("#notice")).to_contain_text("已认领编号", timeout=30_000)
    expect(agent.locator("#transcript")).to_contain_text("外地人办居住证要带什么材料", timeout=30_000)
    expect(agent.locator("#transcript")).to_contain_text("[点我](https://evil.example/x)")
    expect(agent.locator("#transcript a[href*='evil.example']")).to_have_count(0)  # no live link for staff
    expect(agent.locator("#retrieved")).to_contain_text("demo-residence-permit")
    agent.locator("#reply textarea").fill("您好，我是工作人员。居住证请到居住地所在区的受理点办理。")
    agent.locator("#reply-send").click()
    expect(agent.locator("#notice")).to_contain_text("已发送", timeout=30_000)
    _shot(agent, "3-agent-console")
    agent.reload()  # a console reloaded mid-conversation lists it under 我正在处理的会话 and opens it again
    mine = agent.locator("#mine")
    expect(mine).to_contain_text("群众要求", timeout=30_000)
    found = re.search(r"^(\d+)\s+web\s", mine.inner_text(), re.MULTILINE)
    assert found, mine.inner_text()
    agent.locator("#claim-id input").fill(found.group(1))
    agent.locator("#claim-id input").press("Tab")
    agent.locator("#claim").click()
    expect(agent.locator("#notice")).to_contain_text("已认领编号", timeout=30_000)
    expect(agent.locator("#transcript")).to_contain_text("我是工作人员", timeout=30_000)

    agent.get_by_text("统计（近 7 天）").click()
    expect(agent.locator("#stats textarea")).to_have_value(re.compile(r"^知识库：81 项办事指南"))  # filled on load
    agent.locator("#stats-refresh").click()
    expect(agent.locator("#stats textarea")).to_have_value(re.compile(r"会话 2 个（.*），提问 3 条"), timeout=30_000)
    expect(agent.locator("#stats textarea")).to_have_value(re.compile(r"转人工请求 2 个（[^）]*）：.*处理中 1"))
    expect(agent.locator("#stats textarea")).to_have_value(
        re.compile(r"^知识库：81 项办事指南、13 个一件事（版本 [0-9a-f]{16}，\d{4}-\d\d-\d\d \d\d:\d\d 载入）"))
    _shot(agent, "3b-agent-statistics")

    expect(chat).to_contain_text("工作人员 李敏：您好，我是工作人员。", timeout=30_000)  # arrives by polling
    expect(chat).not_to_contain_text("alice")  # citizens read the name staff chose, never a login
    reply = _bubble(citizen, "工作人员 李敏：您好")
    expect(reply).to_have_count(1)  # the agent's reply in a bubble of its own, under nobody else's words
    expect(reply).not_to_contain_text("已为您转接人工服务")
    _shot(citizen, "4-citizen-sees-agent")
    citizen.reload()  # the conversation lives in the browser's storage and the database
    expect(citizen.locator("#chat")).to_contain_text("我是工作人员", timeout=30_000)
    chat = citizen.locator("#chat")

    agent.locator("#hand-back").click()
    expect(agent.locator("#notice")).to_contain_text("已交回智能助手", timeout=30_000)
    expect(chat).to_contain_text("交回智能助手", timeout=30_000)
    _ask(citizen, "办护照要多少钱")
    expect(chat).to_contain_text("普通护照", timeout=30_000)
    expect(chat).to_contain_text("收费标准", timeout=30_000)
    _shot(citizen, "5-bot-answers-again")
    citizen.wait_for_timeout(2500)  # the last poll of the handoff may still be on its way
    assert _events_sent(citizen, 5) == 0  # back with the bot: polling stopped


@pytest.fixture(scope="module")
def bare_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """A server as first started: no staff account, no kiosk key, nobody online; and its desk."""
    data = tmp_path_factory.mktemp("bare-data")
    ingested(data, DEMO_PACK)
    app = create_app(Settings(data_dir=data, staff_names={"bob": "王芳"}))
    with live_server(app) as url:
        yield url, app.state.desk


def test_a_page_left_open_with_a_ticket_shows_the_later_reply(bare_server, browser) -> None:  # type: ignore[no-untyped-def]
    """Nobody online: 转人工 leaves a ticket, said in the chat; an agent takes it later and the open page
    shows the reply without a reload."""
    from playwright.sync_api import expect

    url, desk = bare_server
    citizen = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    citizen.goto(f"{url}/")
    _ask(citizen, "外地人办居住证要带什么材料")
    chat = citizen.locator("#chat")
    # the answer itself, not the question's own words, before 转人工: a click while it streams is not a request yet
    expect(chat).to_contain_text("来源：", timeout=30_000)
    citizen.locator("#handoff").click()
    expect(chat).to_contain_text("已为您登记，编号 HB", timeout=30_000)
    expect(chat).to_contain_text("工作人员上班后会在本对话中回复您")
    (left,) = desk.queue(left=True)
    desk.heartbeat("bob")
    conversation = desk.claim(left.handoff_id, "bob")
    desk.reply(conversation, "bob", "您好，您的留言已收到：居住证请带身份证和住所证明到街道办理。")
    expect(chat).to_contain_text("工作人员 王芳：您好，您的留言已收到", timeout=30_000)
    # 👍/👎 under the bot's answer only: not under the ticket note or the agent's reply
    expect(chat.locator(".message-buttons button[aria-label='踩']:visible")).to_have_count(1)
    _shot(citizen, "4b-citizen-ticket-reply")
    citizen.close()


def test_a_person_asked_for_at_once_gets_the_question_just_sent(bare_server, browser) -> None:  # type: ignore[no-untyped-def]
    """转人工 clicked on a fresh page right after the first question, before the page holds its conversation:
    the request and the question are one conversation, not a second empty one."""
    from playwright.sync_api import expect

    url, desk = bare_server
    citizen = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    sent: list[str] = []  # the events the page sent, said if the request is not shown
    citizen.on("request", lambda r: sent.append(f"{r.url.rsplit('/', 2)[-2]}:{(r.post_data or '')[:60]}")
               if "/queue/join" in r.url else None)
    citizen.goto(f"{url}/")
    question = "残疾人证办理需要什么材料"
    _ask(citizen, question)
    citizen.locator("#handoff").click()  # at once: the answer may not have started
    chat = citizen.locator("#chat")
    requested = re.compile("已为您登记，编号 HB|已为您转接人工服务")  # a ticket, or the queue if bob is still online
    try:
        expect(chat).to_contain_text(requested, timeout=30_000)
    except AssertionError as failure:
        requests = [(e.conversation_id, e.ticket, e.last_question) for e in desk.queue(left=True) + desk.queue()]
        raise AssertionError(f"events sent: {sent}; requests for a person: {requests}") from failure
    def asked() -> dict[str, list[str]]:
        return {entry.conversation_id: [m["content"] for m in desk.messages(entry.conversation_id)
                                        if m["role"] == "user"]
                for entry in desk.queue(left=True) + desk.queue()}

    # whatever the question's own event still does (on a busy machine it may land after the request)
    for _ in range(60):
        if [said for said in asked().values() if question in said] == [[question]] and [] not in asked().values():
            break
        citizen.wait_for_timeout(500)
    assert [said for said in asked().values() if question in said] == [[question]], asked()
    assert [] not in asked().values(), asked()  # no request without a question
    citizen.reload()  # the page keeps that one conversation
    expect(citizen.locator("#chat")).to_contain_text(question, timeout=30_000)
    expect(citizen.locator("#chat")).to_contain_text(requested)
    citizen.close()


def test_a_server_without_a_kiosk_key_or_staff_accounts_says_so(bare_server, browser) -> None:  # type: ignore[no-untyped-def]
    """As first started: the kiosk says it has no key (not "网络繁忙"); the console's login, that no account
    is set up."""
    from playwright.sync_api import expect

    url, _ = bare_server
    kiosk = browser.new_page(viewport={"width": 1080, "height": 1920}, locale="zh-CN")
    kiosk.goto(f"{url}/kiosk?hall=hall-city")
    expect(kiosk.locator("#status")).to_have_text(
        "本机尚未设置接口密钥（BANSHI_KIOSK_KEY），暂时不能提问，请联系工作人员。", timeout=30_000)
    expect(kiosk.locator("#q")).to_be_disabled()
    expect(kiosk.locator("#notice")).to_contain_text("示例数据")
    _shot(kiosk, "6c-kiosk-without-key")
    kiosk.goto(f"{url}/agent/")
    expect(kiosk.get_by_text("尚未设置工作人员账号（BANSHI_STAFF），无法登录。")).to_be_visible(timeout=30_000)
    _shot(kiosk, "3c-console-without-accounts")
    kiosk.close()


def test_the_kiosk_starts_afresh_for_the_next_citizen(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    kiosk = browser.new_page(viewport={"width": 1080, "height": 1920}, locale="zh-CN")
    polls: list[str] = []
    kiosk.on("request", lambda r: polls.append(r.url) if "/messages" in r.url or "/handoff" in r.url else None)
    kiosk.goto(f"{server}/kiosk?hall=hall-city&idle=3")  # 3 s untouched instead of 120
    expect(kiosk.locator("#hall")).to_contain_text("示例市政务服务中心", timeout=30_000)
    kiosk.locator("#q").fill("结婚登记在哪办")
    kiosk.locator("#go").click()
    expect(kiosk.locator("#answer")).to_contain_text("结婚登记", timeout=30_000)
    first = kiosk.evaluate("session")
    kiosk.wait_for_timeout(2000)
    assert polls == []  # nobody but the bot in this conversation: nothing to poll for
    # The citizen walks away: the screen clears, and the next citizen's question starts a new conversation.
    expect(kiosk.locator("#answer")).to_be_hidden(timeout=10_000)
    assert kiosk.evaluate("session") is None and kiosk.locator("#speech").is_hidden()
    kiosk.locator("#q").fill("要带什么材料")
    kiosk.locator("#go").click()
    kiosk.wait_for_function("() => session !== null", timeout=30_000)
    assert kiosk.evaluate("session") != first
    expect(kiosk.locator("#answer")).not_to_contain_text("结婚登记")  # not a follow-up to the last citizen's
    kiosk.locator("#restart").click()  # or the citizen ends it with 重新开始
    assert kiosk.evaluate("session") is None and kiosk.locator("#answer").is_hidden()


@pytest.mark.parametrize("hall", ["</script><script>window.pwned=1</script>", 'x";window.pwned=1;"',
                                  "<img src=x onerror=window.pwned=1>"])
def test_a_hostile_kiosk_link_runs_nothing(server: str, browser, hall: str) -> None:  # type: ignore[no-untyped-def]
    from urllib.parse import quote

    page = browser.new_page(locale="zh-CN")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{server}/kiosk?hall={quote(hall)}")
    page.wait_for_timeout(500)
    assert page.evaluate("typeof window.pwned") == "undefined" and dialogs == []
    assert "机位地址有误" in page.inner_text("body")
    page.close()


def test_a_kiosk_citizen_writes_to_a_person_and_reads_the_reply(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    agent = _console(browser, server)
    kiosk = browser.new_page(viewport={"width": 1080, "height": 1920}, locale="zh-CN")
    kiosk.goto(f"{server}/kiosk?hall=hall-city")
    expect(kiosk.locator("#hall")).to_contain_text("示例市政务服务中心", timeout=30_000)
    kiosk.locator("#q").fill("结婚登记在哪办")
    kiosk.locator("#go").click()
    expect(kiosk.locator("#cards")).to_contain_text("办事卡片", timeout=30_000)
    kiosk.locator("#human").click()
    expect(kiosk.locator("#status")).to_contain_text("已为您转接人工服务", timeout=30_000)
    # Near the top, where a citizen looks: above the answer, not under a long one.
    assert kiosk.locator("#status").bounding_box()["y"] < kiosk.locator("#answer").bounding_box()["y"]
    kiosk.locator("#q").fill("我明天下午<b>能来</b>吗")
    kiosk.locator("#go").click()  # the bot keeps quiet now: the screen shows what went to the person
    expect(kiosk.locator("#answer")).to_contain_text("您：我明天下午<b>能来</b>吗", timeout=30_000)
    expect(kiosk.locator("#answer")).to_contain_text("已发送给工作人员，请稍候回复。")
    agent.locator("#claim-next").click()
    expect(agent.locator("#transcript")).to_contain_text("我明天下午", timeout=30_000)
    agent.locator("#reply textarea").fill("可以，下午五点前到三楼窗口即可。")
    agent.locator("#reply-send").click()
    expect(kiosk.locator("#answer")).to_contain_text("工作人员 李敏：可以，下午五点前到三楼窗口即可。", timeout=30_000)
    expect(kiosk.locator("#cards")).to_be_empty()  # the earlier answer's card does not stay under the reply
    kiosk.locator("#q").fill("好的，要带身份证吗")
    kiosk.locator("#go").click()  # the reply stays on screen above what the citizen writes next
    expect(kiosk.locator("#answer")).to_contain_text("您：好的，要带身份证吗", timeout=30_000)
    expect(kiosk.locator("#answer")).to_contain_text("工作人员 李敏：可以，下午五点前到三楼窗口即可。")
    _shot(kiosk, "6b-kiosk-agent-reply")
    agent.locator("#hand-back").click()
    expect(kiosk.locator("#status")).to_have_text("", timeout=30_000)
    agent.close()


def test_a_kiosk_set_up_for_an_unknown_hall_says_so(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    kiosk = browser.new_page(viewport={"width": 1080, "height": 1920}, locale="zh-CN")
    kiosk.goto(f"{server}/kiosk?hall=hall-nowhere")
    expect(kiosk.locator("#status")).to_have_text("本机所在大厅（hall-nowhere）不在知识库中，请联系工作人员设置。",
                                                  timeout=30_000)
    kiosk.locator("#q").fill("结婚登记在哪办")
    kiosk.locator("#go").click()  # the API refuses the unknown hall (422): no answer for the wrong hall
    expect(kiosk.locator("#status")).to_contain_text("本机设置有误", timeout=30_000)
    assert kiosk.locator("#answer").is_hidden()
    kiosk.close()


def test_kiosk_page_uses_the_api(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    kiosk = browser.new_page(viewport={"width": 1080, "height": 1920}, locale="zh-CN")
    kiosk.goto(f"{server}/kiosk?hall=hall-city")
    expect(kiosk.locator("#hall")).to_contain_text("示例市政务服务中心", timeout=30_000)
    expect(kiosk.locator("#topics button")).to_have_count(13)
    expect(kiosk.locator("#notice")).to_have_text("当前知识库含示例数据（示例市），不是真实城市的指南。")
    kiosk.locator("#q").fill("结婚登记在哪办")
    kiosk.locator("#go").click()
    expect(kiosk.locator("#answer")).to_contain_text("本大厅即可办理", timeout=30_000)
    expect(kiosk.locator("#speech")).to_contain_text("结婚登记")
    _shot(kiosk, "6-kiosk")
    # Eight questions for one kiosk session (the clock stands still): the others go straight to the API,
    # then the page asks once more.
    session = kiosk.evaluate("session")
    for _ in range(10):
        request = urllib.request.Request(f"{server}/api/v1/ask", method="POST",
                                         data=json.dumps({"question": "要多久", "session_id": session}).encode(),
                                         headers={"X-API-Key": "kiosk-key", "Content-Type": "application/json"})
        try:
            urllib.request.urlopen(request, timeout=30).close()
        except urllib.error.HTTPError as error:
            assert error.code == 429
            break
    else:
        pytest.fail("ten questions in a row were all answered")
    kiosk.locator("#q").fill("要带什么材料")
    kiosk.locator("#go").click()  # then a polite request to wait, and the question stays in the box
    expect(kiosk.locator("#status")).to_contain_text("您的提问太频繁了，请", timeout=30_000)
    expect(kiosk.locator("#q")).to_have_value("要带什么材料")


def test_clearing_the_chat_starts_a_new_conversation(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    citizen = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    citizen.goto(f"{server}/")
    _ask(citizen, "办护照要多少钱")
    chat = citizen.locator("#chat")
    expect(chat).to_contain_text("来源：", timeout=30_000)  # the whole answer is in: nothing streams after the clear
    first = citizen.evaluate("localStorage.getItem('banshi-conversation')")
    chat.locator("button[aria-label='清空对话'], button[aria-label='Clear conversation']").first.click()
    expect(chat).not_to_contain_text("护照", timeout=30_000)
    citizen.wait_for_timeout(1000)
    citizen.reload()  # at once: the cleared conversation does not come back
    expect(citizen.locator("#question textarea")).to_be_visible(timeout=30_000)
    citizen.wait_for_timeout(2000)
    chat = citizen.locator("#chat")
    expect(chat).not_to_contain_text("护照")
    _ask(citizen, "要多久")  # nothing under discussion any more: not a follow-up to the passport
    expect(chat).to_contain_text("请问您想了解哪项业务的办理时限？", timeout=30_000)
    assert citizen.evaluate("localStorage.getItem('banshi-conversation')") != first
    citizen.reload()  # the cleared conversation does not come back
    expect(citizen.locator("#chat")).to_contain_text("办理时限", timeout=30_000)
    expect(citizen.locator("#chat")).not_to_contain_text("护照")
    citizen.close()


def test_a_citizen_asking_too_fast_is_asked_to_wait(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    citizen = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    citizen.goto(f"{server}/")
    for answered in range(10):  # eight a minute from this address (the story above used some)
        _ask(citizen, "办护照要多少钱")
        citizen.wait_for_function(  # the whole answer is in (its source line is last), or a refusal
            "n => document.querySelector('#chat').innerText.split('来源：').length > n && "
            "document.querySelector('#question textarea').value === '' || "
            "document.querySelector('#handoff-status').innerText.includes('太频繁')", arg=answered + 1,
            timeout=30_000)
        if "太频繁" in citizen.locator("#handoff-status").inner_text():
            break
    expect(citizen.locator("#handoff-status")).to_contain_text("您的提问太频繁了，请", timeout=30_000)
    expect(citizen.locator("#question textarea")).to_have_value("办护照要多少钱")  # kept to send again
    _shot(citizen, "7-citizen-too-fast")
