"""The channel API under inputs nobody means to send: never a 500, never a traceback, and it still answers.

On a real SQLite file, and on PostgreSQL too when BANSHI_TEST_DATABASE_URL names one (PostgreSQL refuses
NUL in text, SQLite takes it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.settings import Settings
from tests.conftest import DEMO_PACK, empty_database, ingested
from web.server import create_app

KEY = {"X-API-Key": "kiosk-secret", "Content-Type": "application/json"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    # SQLite: the file the app makes in its data dir, as by default
    url = None if request.param == "sqlite" else empty_database(request.param, tmp_path_factory.mktemp("fuzz-db"))
    data: Path = tmp_path_factory.mktemp("fuzz-data")
    ingested(data, DEMO_PACK)
    app = create_app(Settings(data_dir=data, database_url=url, api_keys={"kiosk-city": "kiosk-secret"},
                              rate_limit=0, address_rate_limit=0))
    with TestClient(app, raise_server_exceptions=False) as client:
        first = client.post("/api/v1/ask", json={"question": "办护照要多少钱"}, headers=KEY).json()
        yield client, first["session_id"], first["message_id"]


# Any character, lone surrogates and NUL included, and the odd shapes a JSON body can take.
characters = st.characters(codec=None, blacklist_categories=())
texts = st.one_of(st.text(characters, max_size=40), st.sampled_from(["\x00", "\ud800", "办护照\x00要多少钱\udfff", " ",
                                                                     "x" * 3000, "13812345678", "{}", "%00"]))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), texts)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
                      max_leaves=6)
huge = st.sampled_from([2**63 - 1, 2**63, -(2**63) - 1, 10**30])


def fields(names: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Bodies with each field present or not, of the expected kind or of any kind."""
    return st.fixed_dictionaries({}, optional={name: st.one_of(kind, values) for name, kind in names.items()})


@st.composite
def requests(draw: st.DrawFn, session: str, message: int) -> tuple[str, str, Any]:
    sessions = st.one_of(st.just(session), texts)
    kind = draw(st.sampled_from(["ask", "feedback", "handoff", "messages"]))
    if kind == "ask":
        body = draw(fields({"question": texts, "session_id": sessions, "region": texts, "hall_id": texts}))
        return "POST", "/api/v1/ask", body
    if kind == "feedback":
        body = draw(fields({"session_id": sessions, "message_id": st.one_of(st.just(message), st.integers(), huge),
                            "rating": st.sampled_from(["up", "down", "meh"]), "reason": texts}))
        return "POST", "/api/v1/feedback", body
    path = f"/api/v1/sessions/{quote(draw(sessions), safe='', errors='surrogatepass')}"
    if kind == "handoff":
        return "POST", f"{path}/handoff", draw(fields({"reason": st.sampled_from(["requested", "complaint", "x"])}))
    after = draw(st.one_of(st.integers(), huge, texts))
    limit = draw(st.one_of(st.integers(-5, 600), texts))
    query = f"after={quote(str(after), errors='surrogatepass')}&limit={quote(str(limit), errors='surrogatepass')}"
    return "GET", f"{path}/messages?{query}", None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_no_input_breaks_the_api(served, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    client, session, message = served
    method, path, body = data.draw(requests(session, message))
    content = None if body is None else json.dumps(body)  # ASCII: a lone surrogate travels as an escape
    response = client.request(method, path, content=content, headers=KEY)
    assert response.status_code < 500, (method, path, body, response.text[:300])
    assert "Traceback" not in response.text and "sqlalchemy" not in response.text.lower()
    if response.status_code == 422:  # says what was wrong, without sending a long input back
        assert len(response.content) < 4000, response.text[:300]


def test_the_api_still_answers_after_the_fuzz(served) -> None:  # type: ignore[no-untyped-def]
    client, session, _ = served
    assert client.get("/healthz").status_code == 200
    follow_up = client.post("/api/v1/ask", json={"question": "要多久", "session_id": session}, headers=KEY)
    assert follow_up.status_code == 200 and follow_up.json()["answer"]["decision"] in ("answer", "clarify")
