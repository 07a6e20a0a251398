"""Load script (not a test): many citizens and a few agents on one live server; nothing may be lost.

``python -m evals.load_handoff [--citizens 50] [--agents 3] [--think 5] [--spread 10] [--json]`` ingests
the bundled pack into a temporary data dir, starts ``banshi serve`` on a free loopback port (rate limits
off: every simulated citizen calls from the same address), and runs:

- each citizen (a thread, over the HTTP API): arrives within ``--spread`` seconds, asks three questions
  (each its own, from the colloquial eval cases, reading each answer for ``--think`` seconds), asks for a
  person, waits for an agent's reply (``GET /messages?wait=…``, as the kiosk does), then asks one more
  question after being handed back to the bot;
- each agent (a thread, on the same database the console uses): keeps its presence up, claims the
  oldest waiting conversation, replies once, hands it back.

That run gives the headline figures. Then the burst: the same with all citizens at once and no reading
time (a stress figure: the queue in front of the model). Then the paced run again, with the server
killed by SIGKILL in the middle and started again on the same database; the citizens finish (retrying
what the dead server did not answer), and the script checks the database: every question the server
acknowledged and every agent reply is stored (lost), and no conversation was claimed by two agents
(double claims). It reports answer latency, the time from an
agent's send to the citizen's poll seeing it, and how many "database is locked" errors the server
logged. Bounded: every wait has a deadline, and the server is stopped at the end.

With ``--processes 2`` (or more) the same runs go to that many ``banshi serve`` processes on one data dir and
one database (``--database-url``, e.g. a PostgreSQL; by default the SQLite file in the data dir): each citizen's
calls go round the processes as a round-robin proxy sends them, so one conversation is asked on one process and
polled on another, and the kill run kills the first process while the others go on serving.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from evals.metrics import percentile

ROOT = Path(__file__).resolve().parents[1]
KEY = "load-test-key"
CASES = ROOT / "evals" / "cases" / "demo-colloquial.jsonl"  # real-sounding questions, each asked once a run
WAIT_SECONDS = 20  # a citizen's long poll for an agent's reply
LOCKED = ("(SQLITE_BUSY)", "(SQLITE_LOCKED)", "database is locked")  # how the server log names it


@dataclass
class Record:
    """What the citizens and agents of one run saw, shared between their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)  # ms per answered question
    reply_delays: list[float] = field(default_factory=list)  # ms from an agent's send to the citizen seeing it
    sent: dict[str, float] = field(default_factory=dict)  # conversation -> when its agent sent the reply
    questions: list[tuple[str, str]] = field(default_factory=list)  # (conversation, question) acknowledged
    replies: list[int] = field(default_factory=list)  # agent reply message ids
    claims: list[tuple[str, str]] = field(default_factory=list)  # (conversation, agent)
    problems: list[str] = field(default_factory=list)
    retries: int = 0  # requests sent again because the server was down

    def note(self, problem: str) -> None:
        with self.lock:
            self.problems.append(problem)


def load_questions(path: Path = CASES) -> list[str]:
    """The first question of every case: distinct, so no answer is cheaper for having been asked before."""
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            case = json.loads(line)
            questions.append(case["question"])
    return questions


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _agent(name: str, database_url: str, stop: threading.Event, record: Record) -> None:
    from sqlalchemy.exc import OperationalError

    from desk.handoff import Desk
    from desk.types import ClaimConflictError

    desk = Desk(database_url, lambda *args: None)  # type: ignore[arg-type,return-value]  # agents never ask the bot
    while not stop.is_set():
        try:
            desk.heartbeat(name)
            waiting = desk.queue()
            if not waiting:
                time.sleep(0.2)
                continue
            try:
                conversation = desk.claim(waiting[0].handoff_id, name)
            except ClaimConflictError:
                continue  # another agent was faster: expected, and exactly what must not double-claim
            with record.lock:
                record.claims.append((conversation, name))
            sent = time.monotonic()
            message = desk.reply(conversation, name, f"您好，我是工作人员{name}，已收到您的问题。")
            with record.lock:
                record.sent[conversation] = sent
                record.replies.append(message)
            desk.hand_back(conversation, name)
        except OperationalError as err:  # the console would show an error and the agent click again
            record.note(f"{name}: {type(err.orig).__name__}: {err.orig}")
            time.sleep(0.5)


class RoundRobin:
    """Each request to the next server, as a round-robin proxy in front of several processes sends it."""

    def __init__(self, clients: list[httpx.Client]) -> None:
        self._next = itertools.cycle(clients)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return next(self._next).request(method, url, **kwargs)


def _call(client: httpx.Client | RoundRobin, record: Record, method: str, url: str,
          **kwargs: Any) -> httpx.Response:
    """One request; while the server is down (killed and starting again), the same request again (with several
    servers, to the next one, as a proxy does)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            return client.request(method, url, **kwargs)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            with record.lock:
                record.retries += 1
            time.sleep(0.5)


def _citizen(bases: list[str], number: int, record: Record, think: float, poll: float, arrive: float,
             questions: list[str]) -> None:
    time.sleep(arrive)
    with contextlib.ExitStack() as stack:
        # each citizen starts on another process, so one process does not take every first question
        turned = bases[number % len(bases):] + bases[:number % len(bases)]
        client = RoundRobin([stack.enter_context(httpx.Client(base_url=base, headers={"X-API-Key": KEY}, timeout=60))
                             for base in turned])
        session: str | None = None
        for turn in range(3):
            question = questions[(number * 3 + turn) % len(questions)]
            started = time.perf_counter()
            response = _call(client, record, "POST", "/api/v1/ask", json={"question": question, "session_id": session})
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                return record.note(f"citizen {number}: ask returned {response.status_code}")
            session = str(response.json()["session_id"])
            with record.lock:
                record.latencies.append(elapsed)
                record.questions.append((session, question))
            time.sleep(think)
        assert session is not None
        status = _call(client, record, "POST", f"/api/v1/sessions/{session}/handoff",
                       json={"reason": "requested"}).json()
        if status["state"] not in ("waiting", "agent"):
            return record.note(f"citizen {number}: handoff state {status['state']}")
        after, deadline = 0, time.monotonic() + 120
        while time.monotonic() < deadline:
            if poll:  # a page asking every `poll` seconds instead of waiting on the server
                time.sleep(poll)
            query = {"after": after, **({} if poll else {"wait": WAIT_SECONDS})}
            messages = _call(client, record, "GET", f"/api/v1/sessions/{session}/messages", params=query,
                             timeout=WAIT_SECONDS + 30).json()
            seen = time.monotonic()
            after = max([after, *(m["id"] for m in messages)])
            if any(m["role"] == "agent" for m in messages):
                with record.lock:
                    if session in record.sent:
                        record.reply_delays.append((seen - record.sent[session]) * 1000)
                break
        else:
            return record.note(f"citizen {number}: no agent reply within 120 s")
        deadline = time.monotonic() + 30
        while _call(client, record, "GET", f"/api/v1/sessions/{session}/handoff").json()["state"] != "bot":
            if time.monotonic() > deadline:
                return record.note(f"citizen {number}: not handed back within 30 s")
            time.sleep(0.2)
        final = _call(client, record, "POST", "/api/v1/ask", json={"question": "要多久", "session_id": session})
        if final.status_code != 200 or not final.json()["answer"]:
            return record.note(f"citizen {number}: the bot did not answer after the hand-back")
        with record.lock:
            record.questions.append((session, "要多久"))


class Server:
    """``app.py serve`` on loopback, its log in a file; started, killed and started again."""

    def __init__(self, env: dict[str, str], log: Path, *, start_timeout: float = 90.0) -> None:
        self.env, self.log, self.port = env, log, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.start_timeout = start_timeout  # a big knowledge base takes longer to load
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "app.py", "serve", "--port", str(self.port)], cwd=ROOT,
                                            env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with code {self.process.returncode}; see {self.log}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the server did not start within {self.start_timeout:g} s; see {self.log}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def _run(servers: list[Server], database_url: str, citizens: int, agents: int, think: float, poll: float,
         spread: float = 0.0, kill_after: float | None = None) -> Record:
    record, stop = Record(), threading.Event()
    agent_threads = [threading.Thread(target=_agent, args=(f"agent{i + 1}", database_url, stop, record))
                     for i in range(agents)]
    for thread in agent_threads:
        thread.start()
    time.sleep(1.0)  # presence first, or the first handoffs would get callback tickets
    questions = load_questions()
    bases = [server.base for server in servers]
    citizen_threads = [threading.Thread(target=_citizen, args=(bases, n, record, think, poll,
                                                                    spread * n / citizens, questions))
                       for n in range(citizens)]
    for thread in citizen_threads:
        thread.start()
    if kill_after is not None:
        time.sleep(kill_after)
        servers[0].kill()
        servers[0].start()
    for thread in citizen_threads:
        thread.join(timeout=300)
    stop.set()
    for thread in agent_threads:
        thread.join(timeout=30)
    return record


def _check(database_url: str, records: list[Record]) -> dict[str, int]:
    """What the database holds against what the server acknowledged: lost messages and double claims."""
    from sqlalchemy import select

    from desk.store import Handoff, Message, make_sessionmaker

    with make_sessionmaker(database_url)() as db:
        stored = set(db.execute(select(Message.conversation_id, Message.content).where(Message.role == "user")).all())
        agent_ids = set(db.scalars(select(Message.id).where(Message.role == "agent")))
        claimed = db.execute(select(Handoff.conversation_id, Handoff.agent)
                             .where(Handoff.agent.is_not(None))).all()
    ours = {conversation for r in records for conversation, _ in r.questions}  # a database may hold other runs
    lost = sum(1 for r in records for q in r.questions if q not in stored)
    lost += sum(1 for r in records for m in r.replies if m not in agent_ids)
    conversations = [c for r in records for c, _ in r.claims]
    by_agent: dict[str, set[str]] = {}
    for conversation, agent in claimed:
        if conversation in ours:
            by_agent.setdefault(conversation, set()).add(agent)
    double = max(len(conversations) - len(set(conversations)), sum(len(a) > 1 for a in by_agent.values()))
    return {"lost": lost, "double_claims": double}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--citizens", type=int, default=50)
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--think", type=float, default=5.0, help="seconds a citizen reads an answer before the next")
    parser.add_argument("--spread", type=float, default=10.0,
                        help="seconds over which the citizens arrive, evenly (0: all at once)")
    parser.add_argument("--poll", type=float, default=0.0,
                        help="seconds between a citizen's polls for the agent's reply (0: a long poll, ?wait=)")
    parser.add_argument("--no-burst", action="store_true", help="skip the run with everyone at once")
    parser.add_argument("--no-kill", action="store_true", help="skip the run that kills the server")
    parser.add_argument("--processes", type=int, default=1,
                        help="serving processes on one data dir and database, the citizens' calls round-robin")
    parser.add_argument("--database-url", help="the conversations' database (default: SQLite in the data dir)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.processes < 1:
        parser.error(f"processes must be 1 or more. Currently, processes is {args.processes}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        env = {**os.environ, "BANSHI_DATA_DIR": str(data), "BANSHI_API_KEYS": json.dumps({"load": KEY}),
               "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "PYTHONPATH": str(ROOT),
               "BANSHI_RATE_LIMIT": "0", "BANSHI_ADDRESS_RATE_LIMIT": "0",
               **({"BANSHI_DATABASE_URL": args.database_url} if args.database_url else {})}
        subprocess.run([sys.executable, "app.py", "ingest", "knowledge/demo", "-q"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        database_url = args.database_url or f"sqlite:///{data / 'banshi.sqlite'}"
        servers = [Server(env, Path(tmp) / f"server-{n}.log") for n in range(args.processes)]
        try:
            for server in servers:
                server.start()
            load = _run(servers, database_url, args.citizens, args.agents, args.think, args.poll,
                        args.spread)
            runs = [load]
            if not args.no_burst:
                burst = _run(servers, database_url, args.citizens, args.agents, 0.0, args.poll)
                runs.append(burst)
            if not args.no_kill:
                runs.append(_run(servers, database_url, args.citizens, args.agents, args.think,
                                 args.poll, args.spread, kill_after=1.5))
        finally:
            for server in servers:
                server.stop()
        log = "".join(server.log.read_text(encoding="utf-8", errors="replace") for server in servers
                      if server.log.exists())
        checked = _check(database_url, runs)
    result = {
        "citizens": args.citizens, "agents": args.agents, "processes": args.processes, "think_s": args.think,
        "answers": len(load.latencies),
        "answer_p50_ms": round(percentile(load.latencies, 50), 1),
        "answer_p95_ms": round(percentile(load.latencies, 95), 1),
        "reply_p50_ms": round(percentile(load.reply_delays, 50), 1),
        "reply_p95_ms": round(percentile(load.reply_delays, 95), 1),
        **({} if args.no_burst else {
            "burst_answer_p50_ms": round(percentile(burst.latencies, 50), 1),
            "burst_answer_p95_ms": round(percentile(burst.latencies, 95), 1),
            "burst_reply_p95_ms": round(percentile(burst.reply_delays, 95), 1)}),
        "handoffs_claimed": sum(len(r.claims) for r in runs), **checked,
        "database_locked": sum(log.count(name) for name in LOCKED)
        + sum(LOCKED[-1] in p for r in runs for p in r.problems), "retries_after_kill": sum(r.retries for r in runs),
        "problems": [p for r in runs for p in r.problems], "seconds": round(time.perf_counter() - started, 1),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        for problem in result["problems"]:
            print(f"  {problem}")
        print(f"{args.citizens} citizens arriving over {args.spread} s, {args.agents} agents, {args.processes} "
              f"serving process(es), {args.think} s to read "
              f"an answer; "
              f"{result['seconds']} s in all, {len(result['problems'])} problems")
        print(f"answers:          p50 {result['answer_p50_ms']} ms, p95 {result['answer_p95_ms']} ms "
              f"over {result['answers']} answers")
        print(f"handoff-to-reply: p50 {result['reply_p50_ms']} ms, p95 {result['reply_p95_ms']} ms "
              f"(agent's send to the citizen seeing it)")
        if not args.no_burst:
            print(f"burst (all {args.citizens} at once, no reading): answers p50 {result['burst_answer_p50_ms']} ms, "
                  f"p95 {result['burst_answer_p95_ms']} ms; handoff-to-reply p95 {result['burst_reply_p95_ms']} ms")
        print(f"lost messages:    {result['lost']} (after kill -9 and restart: "
              f"{'skipped' if args.no_kill else str(result['retries_after_kill']) + ' requests retried'})")
        print(f"double claims:    {result['double_claims']} of {result['handoffs_claimed']} handoffs claimed")
        print(f"database locked:  {result['database_locked']} in the server log and the agents' calls")
    return 1 if result["lost"] or result["double_claims"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
