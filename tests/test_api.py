"""The channel API through FastAPI's TestClient, on the bundled demo pack."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app import create_app, main, script_literal
from assistant.staff import check_login, hash_password, verify_password
from knowledge.settings import Settings
from tests.conftest import DEMO_PACK

KEY = {"X-API-Key": "kiosk-secret"}


@pytest.fixture(scope="module")
def api_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("api-data")
    assert main(["ingest", str(DEMO_PACK), "--data-dir", str(data), "-q", "--json"]) == 0
    return data


@pytest.fixture(scope="module")
def client(api_data: Path):  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=api_data, api_keys={"kiosk-city": "kiosk-secret"},
                        staff={"alice": hash_password("alice-password")}, rate_limit=0)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


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
    assert page.status_code == 200 and 'const KEY = "", HALL = "hall-city";' in page.text
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
