"""Two ``app.py serve`` processes as a deployment runs them behind one address: one data dir, one desk database
(the PostgreSQL of BANSHI_TEST_DATABASE_URL when set, else a SQLite file in the data dir) and the vectors on
the session's Chroma server. Any request of a citizen may land on either process; agents work on the database
from the console's code (``Desk``); staff ingest beside both."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from desk.handoff import Desk
from desk.store import Handoff, Message, make_sessionmaker
from desk.types import ClaimConflictError
from knowledge.index import read_generation
from tests.conftest import (
    FIXTURE_PACK,
    KIOSK,
    ServerProcess,
    answer_text,
    edit_pack,
    free_port,
    ingest_elsewhere,
    served_generation_changes,
    start_server,
)

QUESTIONS = ("外地人在这边要办居住证，需要带什么东西？", "开饭店要什么许可证？", "居住证在哪里办")
CITIZENS = 6
WAIT = 20  # seconds one long poll of a citizen waits for a message
# A long poll looks at the database every half second for messages written by another process: the reply reaches
# the citizen well within this, where a poll that missed it would come back only at the end of its wait.
REPLY_SECONDS = WAIT / 2


@dataclass(frozen=True)
class Deployment:
    data_dir: Path
    pack: Path  # a copy of the fixture pack, for staff to edit
    chroma_url: str
    database_url: str
    env: dict[str, str]  # what both servers are started with


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, chroma_server: str) -> Deployment:
    root = tmp_path_factory.mktemp("deployment")
    data_dir, pack = root / "data", root / "pack"
    shutil.copytree(FIXTURE_PACK, pack)
    # The PostgreSQL database is shared with other tests: this module's ids are its own, and it never empties it.
    database_url = os.environ.get("BANSHI_TEST_DATABASE_URL") or f"sqlite:///{data_dir / 'banshi.sqlite'}"
    env = {"BANSHI_COLLECTION": f"processes-{uuid.uuid4().hex[:8]}", "BANSHI_DATABASE_URL": database_url,
           "BANSHI_API_KEYS": json.dumps({"kiosk-city": KIOSK["X-API-Key"]}), "BANSHI_SECRET": uuid.uuid4().hex,
           "BANSHI_RELOAD_SECONDS": "0.5", "BANSHI_RATE_LIMIT": "0", "BANSHI_ADDRESS_RATE_LIMIT": "0",
           "BANSHI_RETENTION_DAYS": "0"}  # no purge of other tests' conversations
    ingest_elsewhere(pack, data_dir, "--chroma-url", chroma_server, env=env)
    assert not (data_dir / "chroma").exists()  # the vectors went to the server
    return Deployment(data_dir, pack, chroma_server, database_url, env)


@pytest.fixture(scope="module")
def servers(deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ...]]:
    """Servers A and B, started together; both stopped at the end however the tests went."""
    logs = tmp_path_factory.mktemp("server-logs")
    with contextlib.ExitStack() as stack:
        started = []
        for name in ("A", "B"):
            port = free_port()
            server = start_server(f"server {name}", [
                sys.executable, "app.py", "serve", "--port", str(port), "--data-dir", str(deployment.data_dir),
                "--chroma-url", deployment.chroma_url], port, logs / f"{name}.log", env=deployment.env)
            stack.callback(server.stop)
            started.append(server)
        for server in started:
            server.wait_ready("/healthz")
        yield tuple(started)


def _client(server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers=KIOSK, timeout=60)


def _ask(client: httpx.Client, question: str, session_id: str | None = None) -> dict[str, Any]:
    response = client.post("/api/v1/ask", json={"question": question, "session_id": session_id})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_session_started_on_one_process_continues_on_the_other(servers: tuple[ServerProcess, ...]) -> None:
    with _client(servers[0]) as a, _client(servers[1]) as b:
        first = _ask(a, QUESTIONS[0])
        session = first["session_id"]
        assert first["answer"]["citations"][0]["guide_id"] == "t-residence-permit"
        # Only the dialogue state A stored says which service "it" is: B reads it from the database.
        fee = _ask(b, "要收费吗", session)
        assert fee["session_id"] == session and fee["answer"]["decision"] == "answer"
        assert fee["answer"]["citations"][0]["guide_id"] == "t-residence-permit"
        assert "首次申领不收费" in fee["answer"]["text"]
        assert _ask(b, "要收费吗")["answer"]["decision"] == "clarify"  # a new session: which service?
        more = _ask(a, "在哪里办", session)
        assert more["answer"]["citations"][0]["guide_id"] == "t-residence-permit"

        history = [client.get(f"/api/v1/sessions/{session}/messages").json() for client in (a, b)]
        assert history[0] == history[1]
        assert [(m["id"], m["role"], m["content"]) for m in history[0] if m["role"] == "assistant"] == [
            (turn["message_id"], "assistant", turn["answer"]["text"]) for turn in (first, fee, more)]
        assert [m["content"] for m in history[0] if m["role"] == "user"] == [QUESTIONS[0], "要收费吗", "在哪里办"]
        assert b.get(f"/api/v1/sessions/{session}/handoff").json() == a.get(
            f"/api/v1/sessions/{session}/handoff").json() == {"state": "bot", "position": None, "agent": None,
                                                              "ticket": None, "reason": None}


@dataclass
class Race:
    """What this test's agents did, shared between their threads."""

    agents: tuple[str, ...]
    ours: set[str] = field(default_factory=set)  # this test's conversations: the queue may hold other tests'
    claimed: dict[str, str] = field(default_factory=dict)  # conversation -> the agent whose claim held
    replies: dict[str, int] = field(default_factory=dict)  # conversation -> the agent's reply (message id)
    stored: dict[str, float] = field(default_factory=dict)  # conversation -> when the reply was stored
    refused: dict[str, str] = field(default_factory=dict)  # conversation -> the agent told another was first
    lock: threading.Lock = field(default_factory=threading.Lock)


def _agent(name: str, database_url: str, race: Race, online: threading.Barrier, go: threading.Event,
           snapshots: threading.Barrier) -> None:
    """An agent's console: present until every citizen waits, then both agents see the same queue and try to
    claim every one of it, in the same order; whoever wins replies and hands back to the bot."""
    desk = Desk(database_url, lambda *_: pytest.fail("an agent's desk never asks the bot"))
    try:
        desk.heartbeat(name)
        online.wait(timeout=60)
        while not go.wait(1):
            desk.heartbeat(name)
        with race.lock:
            ours = set(race.ours)
        waiting = [entry for entry in desk.queue() if entry.conversation_id in ours]
        snapshots.wait(timeout=60)  # neither claims before both have looked
        for entry in waiting:
            try:
                conversation = desk.claim(entry.handoff_id, name)
            except ClaimConflictError:
                with race.lock:
                    race.refused[entry.conversation_id] = name
                continue
            reply = desk.reply(conversation, name, f"您好，我是工作人员，已收到您的问题（{conversation[:6]}）。")
            with race.lock:
                race.claimed[conversation], race.replies[conversation] = name, reply
                race.stored[conversation] = time.monotonic()
            desk.hand_back(conversation, name)
    finally:
        desk.sessions.kw["bind"].dispose()


Poll = tuple[float, float, list[dict[str, Any]]]  # a long poll's start, end and the messages it brought


def _citizen(number: int, servers: tuple[ServerProcess, ...], race: Race,
             requested: threading.Semaphore) -> tuple[str, list[Poll]]:
    """Asks and asks for a person on one process, waits for the agent on the other (long polls), then asks the
    bot again on the first. Returns the conversation and its long polls."""
    with _client(servers[number % 2]) as here, _client(servers[1 - number % 2]) as there:
        first = _ask(here, QUESTIONS[number % len(QUESTIONS)])
        session = first["session_id"]
        with race.lock:
            race.ours.add(session)
        after = _ask(there, "要多久", session)["message_id"]
        status = here.post(f"/api/v1/sessions/{session}/handoff", json={"reason": "requested"})
        assert status.status_code == 200 and status.json()["state"] == "waiting", status.text
        requested.release()
        polls: list[Poll] = []
        deadline = time.monotonic() + 120
        while not any(m["role"] == "agent" for _, _, page in polls for m in page):
            assert time.monotonic() < deadline, f"citizen {number}: no agent reply within 120 s: {polls}"
            started = time.monotonic()
            response = there.get(f"/api/v1/sessions/{session}/messages", params={"after": after, "wait": WAIT},
                                 timeout=WAIT + 30)
            assert response.status_code == 200, response.text
            polls.append((started, time.monotonic(), response.json()))
            after = max([after, *(m["id"] for m in polls[-1][2])])
        while here.get(f"/api/v1/sessions/{session}/handoff").json()["state"] != "bot":
            assert time.monotonic() < deadline, f"citizen {number}: never handed back to the bot"
            time.sleep(0.2)
        assert _ask(here, "在哪里办", session)["answer"] is not None  # the bot's again
        return session, polls


def test_handoffs_across_processes_lose_nothing_and_are_claimed_once(servers: tuple[ServerProcess, ...],
                                                                     deployment: Deployment) -> None:
    tag = uuid.uuid4().hex[:6]
    race = Race(agents=(f"agent-{tag}-1", f"agent-{tag}-2"))
    online, snapshots = threading.Barrier(len(race.agents) + 1), threading.Barrier(len(race.agents))
    go, requested = threading.Event(), threading.Semaphore(0)
    with concurrent.futures.ThreadPoolExecutor(len(race.agents) + CITIZENS) as pool:
        agents = [pool.submit(_agent, name, deployment.database_url, race, online, go, snapshots)
                  for name in race.agents]
        try:
            online.wait(timeout=60)  # agents online first, or the requests would be left with a ticket
            citizens = [pool.submit(_citizen, number, servers, race, requested) for number in range(CITIZENS)]
            for _ in range(CITIZENS):
                assert requested.acquire(timeout=120), [c.exception(timeout=0) for c in citizens if c.done()]
        finally:
            go.set()  # also when a citizen failed: the agents then find less to claim, and end
        for agent in agents:
            agent.result(timeout=120)
        results = [citizen.result(timeout=300) for citizen in citizens]

    polled = dict(results)
    assert polled.keys() == race.ours and len(race.ours) == CITIZENS
    # One claim per conversation; the other agent was told it came second, every time.
    assert race.claimed.keys() == race.refused.keys() == race.ours
    assert all(race.refused[c] != race.claimed[c] for c in race.ours)
    for conversation, polls in polled.items():  # polls on the other process than the request's saw the reply
        shown = [m for _, _, page in polls for m in page]
        assert [m["id"] for m in shown] == sorted({m["id"] for m in shown})  # none twice, in order
        assert [(m["id"], m["content"]) for m in shown if m["role"] == "agent"] == [
            (race.replies[conversation], f"您好，我是工作人员，已收到您的问题（{conversation[:6]}）。")]
        seen = polls[-1][1]  # the last poll brought it
        assert seen - race.stored[conversation] < REPLY_SECONDS, (conversation, polls, race.stored[conversation])

    sessions = make_sessionmaker(deployment.database_url)
    with sessions() as db:
        handoffs = db.execute(select(Handoff.conversation_id, Handoff.status, Handoff.agent)
                              .where(Handoff.conversation_id.in_(race.ours))).all()
        stored = db.execute(select(Message.conversation_id, Message.id, Message.role, Message.content)
                            .where(Message.conversation_id.in_(race.ours), Message.role.in_(["user", "agent"]))
                            .order_by(Message.id)).all()
    sessions.kw["bind"].dispose()
    assert sorted(tuple(row) for row in handoffs) == sorted((c, "returned", race.claimed[c]) for c in race.ours)
    for number, (conversation, _) in enumerate(results):
        mine = [(role, content) for c, _, role, content in stored if c == conversation]
        assert mine == [("user", QUESTIONS[number % len(QUESTIONS)]), ("user", "要多久"),
                        ("agent", f"您好，我是工作人员，已收到您的问题（{conversation[:6]}）。"), ("user", "在哪里办")]
        assert [i for c, i, role, _ in stored if c == conversation and role == "agent"] == [race.replies[conversation]]


def test_an_ingest_beside_both_processes_reaches_both(servers: tuple[ServerProcess, ...],
                                                      deployment: Deployment) -> None:
    """Last in the module: it changes the knowledge the tests above ask about."""
    import chromadb

    with _client(servers[0]) as a, _client(servers[1]) as b:
        before = str(read_generation(deployment.data_dir)[1])
        assert [client.get("/healthz").json()["generation"] for client in (a, b)] == [before, before]
        assert all("首次申领不收费" in answer_text(client, "办居住证收费吗") for client in (a, b))

        edit_pack(deployment.pack)
        ingest_elsewhere(deployment.pack, deployment.data_dir, "--chroma-url", deployment.chroma_url,
                         env=deployment.env)
        after = [served_generation_changes(client, before) for client in (a, b)]
        assert after == [read_generation(deployment.data_dir)[1]] * 2
        for client in (a, b):
            fee = answer_text(client, "办居住证收费吗")
            assert "工本费20元" in fee and "首次申领不收费" not in fee  # no stale chunk survives, BM25 or vector
            assert "养犬登记证核发" in answer_text(client, "办狗证要带什么")
            assert client.get("/healthz").json()["reload_error"] is None
    server = httpx.URL(deployment.chroma_url)
    vectors = chromadb.HttpClient(host=server.host, port=server.port).get_collection(
        deployment.env["BANSHI_COLLECTION"]).get(where={"record_id": "t-dog-licence"})
    assert vectors["ids"]  # the new guide's vectors are on the server, written by the ingest
