"""The channel API through FastAPI's TestClient, on the bundled demo pack."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from assistant.settings import Settings
from cli import main
from desk.staff import check_login, hash_password, verify_password
from tests.conftest import DEMO_PACK, empty_database, ingested
from web.server import create_app, script_literal

KEY = {"X-API-Key": "kiosk-secret"}
PARTNER = {"X-API-Key": "partner-secret"}  # another channel


@pytest.fixture(scope="module")
def api_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingested(tmp_path_factory.mktemp("api-data"), DEMO_PACK)


@pytest.fixture(scope="module")
def client(api_data: Path):  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=api_data, api_keys={"kiosk-city": "kiosk-secret", "partner": "partner-secret"},
                        staff={"alice": hash_password("alice-password")}, rate_limit=0)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def strict(api_data: Path):  # type: ignore[no-untyped-def]
    """An app with one allowed origin, 3 failed logins in 60 s, and 2 requests a minute a session and 5 an
    address; ``strict.clock`` drives its limits. Tests call it from addresses of their own."""
    clock = Clock()
    settings = Settings(data_dir=api_data, api_keys={"kiosk-city": "kiosk-secret"}, rate_limit=2,
                        address_rate_limit=5, login_attempts=3, login_window_seconds=60,
                        allowed_origins=["https://kiosk.example.gov.cn"],
                        staff={"alice": hash_password("alice-password"),
                               "slow": hash_password("slow-password", iterations=3_000_000)})
    app = create_app(settings, clock=clock)
    with TestClient(app) as shared:
        app.state.clock, app.state.shared = clock, shared
        yield app


def caller(app, address: str) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, client=(address, 50000))


def test_too_many_questions_get_429_with_retry_after(api_data: Path) -> None:
    settings = Settings(data_dir=api_data, api_keys={"kiosk-city": "kiosk-secret"}, rate_limit=3)
    with TestClient(create_app(settings)) as limited:
        first = limited.post("/api/v1/ask", json={"question": "办护照要多少钱"}, headers=KEY).json()
        session = {"session_id": first["session_id"]}
        for _ in range(3):  # the first question counted for new sessions from this address; these for the session
            assert limited.post("/api/v1/ask", json={"question": "要多久", **session}, headers=KEY).status_code == 200
        refused = limited.post("/api/v1/ask/stream", json={"question": "在哪办", **session}, headers=KEY)
        assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 20
        assert "3 a minute" in refused.json()["detail"]
        # The refused question was not stored; another session has its own allowance.
        assert [m["content"] for m in limited.get(f"/api/v1/sessions/{first['session_id']}/messages",
                                                  headers=KEY).json() if m["role"] == "user"] == [
            "办护照要多少钱", "要多久", "要多久", "要多久"]
        assert [limited.post("/api/v1/ask", json={"question": "结婚登记在哪办"}, headers=KEY).status_code
                for _ in range(3)] == [200, 200, 429]  # new sessions from one address are limited too
        assert "429" in limited.get("/openapi.json").json()["paths"]["/api/v1/ask"]["post"]["responses"]


def test_key_is_required(client: TestClient) -> None:
    assert client.post("/api/v1/ask", json={"question": "办护照"}).status_code == 401
    assert client.post("/api/v1/ask", json={"question": "办护照"}, headers={"X-API-Key": "wrong"}).status_code == 401


def test_ask_returns_the_answer_object(client: TestClient) -> None:
    response = client.post("/api/v1/ask", json={"question": "结婚登记在哪办", "hall_id": "hall-city"}, headers=KEY)
    assert response.status_code == 200
    body = response.json()
    answer = body["answer"]
    assert answer["decision"] == "answer" and answer["citations"][0]["guide_id"] == "demo-marriage"
    assert "本大厅即可办理：三楼F区76-85号窗口" in answer["text"]
    assert len(answer["speech"]) <= 120 and "http" not in answer["speech"]
    assert answer["cards"][0]["name"] == "结婚登记（内地居民）"
    assert body["handoff"] == {"state": "bot", "position": None, "agent": None, "ticket": None, "reason": None}
    follow_up = client.post("/api/v1/ask", json={"question": "要带什么", "session_id": body["session_id"]},
                            headers=KEY).json()
    assert follow_up["answer"]["citations"][0]["guide_id"] == "demo-marriage"
    history = client.get(f"/api/v1/sessions/{body['session_id']}/messages", headers=KEY).json()
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]


def test_bad_requests(client: TestClient) -> None:
    assert client.post("/api/v1/ask", json={"question": ""}, headers=KEY).status_code == 422
    blank = client.post("/api/v1/ask", json={"question": " \u3000\n "}, headers=KEY)
    assert blank.status_code == 422 and "blank" in blank.text
    hall = client.post("/api/v1/ask", json={"question": "结婚登记在哪办", "hall_id": "hall-ctiy"}, headers=KEY)
    assert hall.status_code == 422 and "unknown hall_id 'hall-ctiy'; known: hall-city" in hall.text
    assert client.post("/api/v1/ask", json={"question": "结婚登记在哪办", "region": "北京市朝阳区"},
                       headers=KEY).status_code == 422
    unset = {"question": "结婚登记在哪办", "region": "", "hall_id": ""}  # empty is as good as none, for both
    assert client.post("/api/v1/ask", json=unset, headers=KEY).status_code == 200
    short = client.post("/api/v1/ask", json={"question": "居住证申领在哪办", "region": "青山区"}, headers=KEY).json()
    assert short["answer"]["decision"] == "answer" and "青山区政务服务中心" in short["answer"]["text"]  # short name
    assert client.post("/api/v1/ask", json={"question": "你好", "session_id": "nope"}, headers=KEY).status_code == 404
    assert client.get("/api/v1/sessions/nope/handoff", headers=KEY).status_code == 404
    assert client.post("/api/v1/sessions/nope/end", headers=KEY).status_code == 404


def test_a_kiosk_ends_a_session_when_the_citizen_leaves(api_data: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=api_data, api_keys={"kiosk-city": "kiosk-secret"}, rate_limit=0,
                        database_url=f"sqlite:///{tmp_path / 'own.sqlite'}")
    with TestClient(create_app(settings)) as own:
        desk = own.app.state.desk  # type: ignore[attr-defined]
        desk.heartbeat("alice")  # an agent online: the request waits in the queue
        session = own.post("/api/v1/ask", json={"question": "转人工"}, headers=KEY).json()["session_id"]
        assert own.get(f"/api/v1/sessions/{session}/handoff", headers=KEY).json()["state"] == "waiting"
        ended = own.post(f"/api/v1/sessions/{session}/end", headers=KEY)
        assert ended.status_code == 200 and ended.json()["state"] == "closed"
        assert desk.queue() == []  # nobody claims it for nothing


def test_a_long_poll_returns_as_soon_as_an_agent_writes(api_data: Path, tmp_path: Path) -> None:
    """With ``wait``, /messages waits for the next message: one written by this process's console arrives at
    once, one written by another process sharing the database within a second or so."""
    from desk.handoff import Desk

    url = f"sqlite:///{tmp_path / 'own.sqlite'}"
    settings = Settings(data_dir=api_data, api_keys={"kiosk-city": "kiosk-secret"}, rate_limit=0, database_url=url)
    with TestClient(create_app(settings)) as own:
        desk = own.app.state.desk  # type: ignore[attr-defined]
        desk.heartbeat("alice")
        asked = own.post("/api/v1/ask", json={"question": "转人工"}, headers=KEY).json()
        session, after = asked["session_id"], own.get(f"/api/v1/sessions/{asked['session_id']}/messages",
                                                      headers=KEY).json()[-1]["id"]
        messages = f"/api/v1/sessions/{session}/messages"

        def waited(write, wait: float = 10) -> tuple[float, list[dict]]:  # type: ignore[no-untyped-def,type-arg]
            threading.Timer(0.3, write).start()
            started = time.monotonic()
            shown = own.get(messages, params={"after": after, "wait": wait}, headers=KEY).json()
            return time.monotonic() - started, shown

        elapsed, shown = waited(lambda: desk.claim(desk.queue()[0].handoff_id, "alice"))
        assert 0.3 <= elapsed < 1.0 and [m["content"] for m in shown] == ["工作人员已接入。"]
        after = shown[-1]["id"]
        elapsed, shown = waited(lambda: desk.reply(session, "alice", "您好，请讲。"))
        assert 0.3 <= elapsed < 1.0 and [(m["role"], m["content"]) for m in shown] == [("agent", "您好，请讲。")]
        after = shown[-1]["id"]
        other = Desk(url, lambda *args: None)  # type: ignore[arg-type,return-value]  # another process's console
        elapsed, shown = waited(lambda: other.reply(session, "alice", "材料带齐了吗？"))
        assert 0.3 <= elapsed < 2.5 and [m["content"] for m in shown] == ["材料带齐了吗？"]
        after = shown[-1]["id"]
        started = time.monotonic()
        assert own.get(messages, params={"after": after, "wait": 0.5}, headers=KEY).json() == []  # nothing came
        assert 0.5 <= time.monotonic() - started < 2.0
        assert own.get(messages, params={"after": after}, headers=KEY).json() == []  # no wait: at once
        assert own.get(messages, params={"wait": 31}, headers=KEY).status_code == 422
        assert own.get("/api/v1/sessions/0123456789abcdef0123456789abcdef/messages", params={"wait": 5},
                       headers=KEY).status_code == 404


def test_streaming_sends_deltas_then_the_answer(client: TestClient) -> None:
    with client.stream("POST", "/api/v1/ask/stream", json={"question": "办护照要多少钱"}, headers=KEY) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [block for block in response.read().decode().split("\n\n") if block]
    kinds = [block.split("\n")[0] for block in events]
    assert kinds[-1] == "event: answer" and set(kinds[:-1]) == {"event: delta"}
    deltas = "".join(json.loads(block.split("data: ", 1)[1])["text"] for block in events[:-1])
    final = json.loads(events[-1].split("data: ", 1)[1])
    assert deltas == final["answer"]["text"]


def test_handoff_and_feedback_endpoints(client: TestClient) -> None:
    body = client.post("/api/v1/ask", json={"question": "办护照要多少钱"}, headers=KEY).json()
    session = body["session_id"]
    status = client.post(f"/api/v1/sessions/{session}/handoff", json={"reason": "requested"}, headers=KEY).json()
    assert status["state"] == "callback" and status["ticket"].startswith("HB")  # no agent is online
    assert client.get(f"/api/v1/sessions/{session}/handoff", headers=KEY).json() == status
    rated = client.post("/api/v1/feedback", json={"session_id": session, "message_id": body["message_id"],
                                                   "rating": "up"}, headers=KEY)
    assert rated.status_code == 200 and rated.json()["id"] > 0
    assert client.post("/api/v1/feedback", json={"session_id": session, "rating": "meh"},
                       headers=KEY).status_code == 422


def test_kiosk_support_endpoints_and_page(client: TestClient) -> None:
    themes = client.get("/api/v1/themes", headers=KEY).json()
    assert len(themes) == 13 and {"id": "theme-newborn", "name": "新生儿出生一件事"} in themes
    halls = client.get("/api/v1/halls", headers=KEY).json()
    assert halls[0]["id"] == "hall-city" and halls[0]["kiosks"][0]["id"] == "kiosk-city-1f"
    page = client.get("/kiosk?hall=hall-city")
    assert page.status_code == 200 and 'const KEY = "", HALL = "hall-city", NOTICE = "' in page.text
    assert "\\u5f53\\u524d\\u77e5\\u8bc6\\u5e93" in page.text  # 当前知识库… as escaped script data
    nonce = re.search(r"script-src 'nonce-([\w-]+)'", page.headers["content-security-policy"])
    assert nonce and f'<script nonce="{nonce.group(1)}">' in page.text  # only the page's own script runs
    typed = client.get("/kiosk/?hall=hall-city", follow_redirects=False)  # as people type addresses
    assert typed.status_code == 307 and typed.headers["location"] == "/kiosk?hall=hall-city"
    assert client.get("/agent", follow_redirects=False).headers["location"] == "/agent/"
    schema = client.get("/openapi.json").json()
    assert {"/api/v1/ask", "/api/v1/ask/stream", "/api/v1/feedback"} <= set(schema["paths"])


@pytest.mark.parametrize("hall", ["</script><script>alert(1)</script>", '"-alert(1)-"', "hall city", "x" * 65, ""])
def test_the_kiosk_page_refuses_a_hall_that_is_no_plain_id(client: TestClient, hall: str) -> None:
    page = client.get("/kiosk", params={"hall": hall})
    assert page.status_code == 400 and "机位地址有误" in page.text and "alert" not in page.text
    assert page.headers["content-security-policy"] == "default-src 'none'"


@pytest.mark.parametrize("value", ["</script><script>alert(1)</script>", "<!--", "a\u2028b", 'q"\\', "中文&<>"])
def test_script_data_cannot_leave_its_script_element(value: str) -> None:
    literal = script_literal(value)
    assert json.loads(literal) == value  # the page's script reads the same string back
    assert not {"<", ">", "&", "\u2028"} & set(literal)


def test_staff_console_needs_a_login(client: TestClient) -> None:
    assert client.post("/agent/login", data={"username": "alice", "password": "wrong-one"}).status_code == 400
    assert client.post("/agent/login", data={"username": "alice", "password": "alice-password"}).status_code == 200


def test_passwords_are_hashed() -> None:
    stored = hash_password("correct horse", salt="s1", iterations=1000)
    assert stored.startswith("pbkdf2_sha256$1000$s1$") and "correct horse" not in stored
    assert verify_password("correct horse", stored) and not verify_password("wrong horse", stored)
    assert check_login({"alice": stored}, "alice", "correct horse") and not check_login({}, "bob", "x")
    with pytest.raises(ValueError, match="at least 8 characters"):
        hash_password("short")


def test_hash_password_command(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "a-long-password")
    assert main(["hash-password"]) == 0
    assert verify_password("a-long-password", capsys.readouterr().out.strip())


def test_other_sites_get_no_cors_grant_and_the_configured_one_no_credentials(strict) -> None:  # type: ignore[no-untyped-def]
    web = caller(strict, "10.0.0.1")
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key,content-type"}
    allowed = web.options("/api/v1/ask", headers={"Origin": "https://kiosk.example.gov.cn", **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://kiosk.example.gov.cn"
    assert "access-control-allow-credentials" not in allowed.headers
    for path in ("/api/v1/ask", "/gradio_api/queue/join", "/agent/login"):
        refused = web.options(path, headers={"Origin": "https://evil.example", **preflight})
        assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers, path
    for path in ("/config", "/agent/config", "/api/v1/themes"):  # Gradio would echo any origin, with credentials
        simple = web.get(path, headers={"Origin": "https://evil.example", **KEY})
        assert "access-control-allow-origin" not in simple.headers, path
        assert "access-control-allow-credentials" not in simple.headers, path


def test_the_staff_login_cookies_stay_on_this_site(client: TestClient) -> None:
    login = client.post("/agent/login", data={"username": "alice", "password": "alice-password"})
    cookies = login.headers.get_list("set-cookie")
    assert login.status_code == 200 and len(cookies) == 2
    assert all("samesite=lax" in c.lower() and "samesite=none" not in c.lower() for c in cookies), cookies


def test_the_chat_gives_a_browser_a_cookie_of_its_own(client: TestClient) -> None:
    fresh = TestClient(client.app)
    page = fresh.get("/")
    cookie = page.headers["set-cookie"]
    assert re.fullmatch(r"banshi-browser=[0-9a-f]{32}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax", cookie)
    assert "set-cookie" not in fresh.get("/").headers  # kept: not given again
    assert "set-cookie" not in TestClient(client.app).get("/api/v1/themes", headers=KEY).headers


def test_failed_logins_are_throttled_per_address_and_per_login(strict) -> None:  # type: ignore[no-untyped-def]
    one, other = caller(strict, "10.0.1.1"), caller(strict, "10.0.1.2")

    def login(web: TestClient, username: str, password: str) -> int:
        return web.post("/agent/login", data={"username": username, "password": password}).status_code

    assert "密码连续输错 3 次后，需等待 1 分钟再试。" in one.get("/agent/config").text  # the login page says so
    assert [login(one, "alice", "wrong-password") for _ in range(3)] == [400, 400, 400]
    refused = one.post("/agent/login", data={"username": "alice", "password": "alice-password"})
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60  # even the right one
    assert login(one, "nobody", "whatever-1") == 429  # this address, whatever the login
    assert login(other, "alice", "alice-password") == 429  # this login, from wherever
    strict.state.clock.now += 61  # the failures leave the window
    assert login(other, "alice", "alice-password") == 200
    assert login(one, "alice", "alice-password") == 200


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_processes_on_one_database_share_the_limits(api_data: Path, tmp_path: Path, database: str) -> None:
    """Two app processes (two apps here) on one database count a session's questions, an address's requests and
    the failed staff logins once for both: on PostgreSQL by default, on a SQLite file when asked to."""
    clock = Clock()
    settings = Settings(data_dir=api_data, database_url=empty_database(database, tmp_path),
                        shared_limits="on" if database == "sqlite" else "auto", api_keys={"kiosk-city": "kiosk-secret"},
                        rate_limit=2, address_rate_limit=4, login_attempts=2, login_window_seconds=60,
                        staff={"alice": hash_password("alice-password")})
    with TestClient(create_app(settings, clock=clock)) as one, TestClient(create_app(settings, clock=clock)) as other:
        new = {"question": "办护照要多少钱"}
        session = one.post("/api/v1/ask", json=new, headers=KEY).json()["session_id"]  # 1 of 4 for the address
        ask = {"question": "要多久", "session_id": session}
        assert [web.post("/api/v1/ask", json=ask, headers=KEY).status_code for web in (other, one)] == [200, 200]
        refused = other.post("/api/v1/ask", json=ask, headers=KEY)  # the session had its 2 (the address its 4)
        assert refused.status_code == 429 and "2 a minute" in refused.json()["detail"]
        refused = one.post("/api/v1/ask", json=new, headers=KEY)
        assert refused.status_code == 429 and "4 a minute" in refused.json()["detail"]

        def login(web: TestClient, password: str) -> int:
            return web.post("/agent/login", data={"username": "alice", "password": password}).status_code

        assert [login(one, "wrong-password"), login(other, "wrong-password"), login(one, "alice-password")] == [
            400, 400, 429]
        clock.now += 61
        assert login(other, "alice-password") == 200


def test_an_unknown_login_costs_one_hash_like_a_known_one(monkeypatch: pytest.MonkeyPatch) -> None:
    real, rounds = hashlib.pbkdf2_hmac, []

    def counted(name: str, password: bytes, salt: bytes, iterations: int) -> bytes:
        rounds.append(iterations)
        return real(name, password, salt, iterations)

    accounts = {"alice": hash_password("alice-password", iterations=1500)}
    check_login(accounts, "carol", "wrong-password")  # the stand-in hash is made once, at the first unknown login
    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counted)
    assert not check_login(accounts, "alice", "wrong-password") and rounds == [1500]
    assert not check_login(accounts, "bob", "wrong-password") and rounds == [1500, 1500]


def test_the_login_hash_does_not_hold_up_other_requests(strict) -> None:  # type: ignore[no-untyped-def]
    shared = strict.state.shared  # one event loop for both requests
    done: list[int] = []
    slow = threading.Thread(target=lambda: done.append(shared.post(
        "/agent/login", data={"username": "slow", "password": "slow-password"}).status_code))
    started = time.monotonic()
    slow.start()
    time.sleep(0.3)
    assert shared.get("/api/v1/themes", headers=KEY).status_code == 200
    answered = time.monotonic() - started
    slow.join()
    hashed = time.monotonic() - started
    assert done == [200] and answered < hashed / 2, (answered, hashed)


def test_no_page_takes_an_upload(client: TestClient) -> None:
    big = {"files": ("big.bin", b"x" * 2_000_000, "application/octet-stream")}
    for path in ("/gradio_api/upload", "/agent/gradio_api/upload", "/gradio_api/upload/"):
        refused = client.post(path, files=big)
        assert refused.status_code == 413 and refused.json() == {"detail": "uploads are not accepted"}, path


def test_a_session_belongs_to_the_channel_that_started_it(client: TestClient) -> None:
    body = client.post("/api/v1/ask", json={"question": "办护照要多少钱"}, headers=KEY).json()
    session = body["session_id"]
    base = f"/api/v1/sessions/{session}"
    tries = [client.get(f"{base}/messages", headers=PARTNER), client.get(f"{base}/handoff", headers=PARTNER),
             client.post("/api/v1/ask", json={"question": "要多久", "session_id": session}, headers=PARTNER),
             client.post(f"{base}/handoff", json={"reason": "requested"}, headers=PARTNER),
             client.post(f"{base}/end", headers=PARTNER),
             client.post("/api/v1/feedback", json={"session_id": session, "message_id": body["message_id"],
                                                   "rating": "down"}, headers=PARTNER)]
    assert [(t.status_code, t.json()) for t in tries] == [(404, {"detail": "unknown session_id"})] * 6
    history = client.get(f"{base}/messages", headers=KEY).json()  # untouched, and still the owner's
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert client.get(f"{base}/handoff", headers=KEY).json()["state"] == "bot"


def test_unstorable_characters_and_huge_numbers_are_the_callers_problem(client: TestClient) -> None:
    def escaped(body: dict[str, str]) -> dict[str, object]:  # a lone surrogate travels only as a JSON escape
        return {"content": json.dumps(body), "headers": {**KEY, "Content-Type": "application/json"}}

    asked = client.post("/api/v1/ask", **escaped({"question": "办护照\x00要多少钱\ud800"}))  # type: ignore[arg-type]
    assert asked.status_code == 200
    session = asked.json()["session_id"]
    stored = client.get(f"/api/v1/sessions/{session}/messages", headers=KEY).json()
    assert stored[0]["content"] == "办护照要多少钱"
    assert client.post("/api/v1/ask", **escaped({"question": "\x00\ud800"})).status_code == 422  # type: ignore[arg-type]
    assert client.get("/api/v1/sessions/%00/messages", headers=KEY).status_code == 404
    assert client.get(f"/api/v1/sessions/{session}/messages?after={2**63}", headers=KEY).status_code == 422
    too_big = client.post("/api/v1/feedback", json={"session_id": session, "message_id": 2**63, "rating": "up"},
                          headers=KEY)
    assert too_big.status_code == 422 and too_big.json()["detail"][0]["loc"] == ["body", "message_id"]
    assert client.post("/api/v1/feedback", json={"session_id": session, "message_id": 2**63 - 1, "rating": "up"},
                       headers=KEY).status_code == 404
    for shape in ({"$gt": ""}, ["x"], 7):
        odd = client.post("/api/v1/feedback", json={"session_id": shape, "rating": "up"}, headers=KEY)
        assert odd.status_code == 422 and "sqlalchemy" not in odd.text.lower() and "Traceback" not in odd.text
    huge = client.post("/api/v1/ask", json={"question": "居" * 10_000_000}, headers=KEY)
    assert huge.status_code == 422 and len(huge.content) < 1000
    assert huge.json()["detail"][0]["loc"] == ["body", "question"]


def test_a_failure_is_logged_without_what_the_citizen_wrote(api_data: Path, tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(data_dir=api_data, api_keys={"kiosk-city": "kiosk-secret"}, rate_limit=0,
                        database_url=f"sqlite:///{tmp_path / 'own.sqlite'}")
    with TestClient(create_app(settings)) as own:
        session = own.post("/api/v1/ask", json={"question": "办护照要多少钱"}, headers=KEY).json()["session_id"]
        with own.app.state.desk.sessions.begin() as db:  # type: ignore[attr-defined]
            db.execute(text("DROP TABLE feedback"))
            db.execute(text("DROP TABLE messages"))  # the next question cannot be stored
        with caplog.at_level(logging.DEBUG):
            failed = own.post("/api/v1/ask", json={"question": "我叫王小明，住在明湖路8号", "session_id": session},
                              headers=KEY)
    assert failed.status_code == 500 and failed.json() == {"detail": "internal error"}
    assert "OperationalError" in caplog.text and "/api/v1/ask" in caplog.text
    assert "王小明" not in caplog.text and "明湖路" not in caplog.text


def test_requests_are_limited_per_address_and_per_session(strict) -> None:  # type: ignore[no-untyped-def]
    web = caller(strict, "10.0.3.1")
    first = web.post("/api/v1/ask", json={"question": "办护照要多少钱"}, headers=KEY).json()  # 1 of 5 for the address
    session = {"session_id": first["session_id"]}
    rate = {**session, "message_id": first["message_id"], "rating": "up"}
    assert web.post("/api/v1/feedback", json=rate, headers=KEY).status_code == 200  # 1 of 2 for the session
    assert web.post(f"/api/v1/sessions/{first['session_id']}/handoff", json={}, headers=KEY).status_code == 200
    refused = web.post("/api/v1/feedback", json=rate, headers=KEY)  # ratings count like questions
    assert refused.status_code == 429 and "2 a minute" in refused.json()["detail"]
    assert [web.post("/api/v1/ask", json={"question": "结婚登记在哪办"}, headers=KEY).status_code
            for _ in range(2)] == [200, 429]  # new sessions, but the address has had its 5
    assert "5 a minute" in web.post("/api/v1/ask", json={"question": "结婚登记在哪办"}, headers=KEY).json()["detail"]
    assert caller(strict, "10.0.3.2").post("/api/v1/ask", json={"question": "结婚登记在哪办"},
                                           headers=KEY).status_code == 200  # another address has its own


def test_history_comes_in_pages(client: TestClient) -> None:
    session = client.post("/api/v1/ask", json={"question": "办护照要多少钱"}, headers=KEY).json()["session_id"]
    for question in ("要多久", "在哪办"):
        client.post("/api/v1/ask", json={"question": question, "session_id": session}, headers=KEY)
    whole = client.get(f"/api/v1/sessions/{session}/messages", headers=KEY).json()
    assert len(whole) == 6
    pages, after = [], 0
    while page := client.get(f"/api/v1/sessions/{session}/messages?after={after}&limit=4", headers=KEY).json():
        pages.append([m["id"] for m in page])
        after = page[-1]["id"]
    assert pages == [[m["id"] for m in whole[:4]], [m["id"] for m in whole[4:]]]
    for limit in (0, 501):
        assert client.get(f"/api/v1/sessions/{session}/messages?limit={limit}", headers=KEY).status_code == 422


def test_the_secret_is_made_once_and_kept_in_the_data_dir(tmp_path: Path) -> None:
    made = Settings(data_dir=tmp_path / "data").secret_key()
    assert len(made) == 64 and Settings(data_dir=tmp_path / "data").secret_key() == made
    assert (tmp_path / "data" / "secret").stat().st_mode & 0o777 == 0o600
    assert Settings(data_dir=tmp_path / "data", secret="s" * 32).secret_key() == b"s" * 32


def test_a_kiosk_asked_when_its_hall_closes_answers_from_the_hall(client: TestClient) -> None:
    """"你们这几点关门" at a kiosk is about the hall it stands in: its hours from pack.yaml, spoken, and cited by the
    hall's name; a question about a spot inside the hall or a service is not."""
    body = client.post("/api/v1/ask", json={"question": "你们这几点关门", "hall_id": "hall-city"}, headers=KEY).json()
    answer = body["answer"]
    assert answer["decision"] == "answer" and answer["citations"][0]["title"] == "示例市政务服务中心"
    assert answer["text"].startswith("**示例市政务服务中心**：办理时间：周一至周五 9:00-12:00、13:30-17:30；")
    assert answer["speech"].startswith("示例市政务服务中心的办理时间是周一至周五")
    inside = client.post("/api/v1/ask", json={"question": "你们这大厅里自助机在哪", "hall_id": "hall-city"},
                         headers=KEY).json()["answer"]
    assert not inside["text"].startswith("**示例市政务服务中心**")  # a spot inside the hall: not its hours
    where = client.post("/api/v1/ask", json={"question": "在哪办", "hall_id": "hall-city"}, headers=KEY).json()
    assert where["answer"]["decision"] == "clarify"  # which service, not the hall's address
