"""Load script (not a test): many citizens and a few agents on one live server; nothing may be lost.

``python -m evals.load_handoff [--citizens 20] [--agents 2] [--json]`` ingests the bundled pack into
a temporary data dir, starts ``banshi serve`` on a free loopback port, and runs:

- each citizen (a thread, over the HTTP API): asks three questions, asks for a person, waits for an
  agent's reply, then asks one more question after being handed back to the bot;
- each agent (a thread, on the same database the console uses): keeps its presence up, claims the
  oldest waiting conversation, replies once, hands it back.

It checks that every citizen saw its agent reply, that every handoff was claimed exactly once, and
that every message sent is stored; and reports answer latency percentiles under that load.
Bounded: every wait has a deadline, and the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from evals.metrics import percentile

ROOT = Path(__file__).resolve().parents[1]
KEY = "load-test-key"
QUESTIONS = ["办居住证要带什么材料", "公积金租房提取怎么办", "开餐厅要办哪些证", "结婚登记在哪办", "办护照要多少钱",
             "社保卡丢了怎么补", "二手房过户要多久", "残疾人证怎么办", "新生儿上户口要带什么", "退休要办什么手续"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _agent(name: str, database_url: str, stop: threading.Event, claims: list[tuple[str, str]],
           lock: threading.Lock) -> None:
    from assistant.desk import ClaimConflictError, Desk

    desk = Desk(database_url, lambda *args: None)  # type: ignore[arg-type,return-value]  # agents never ask the bot
    while not stop.is_set():
        desk.heartbeat(name)
        waiting = desk.queue()
        if not waiting:
            time.sleep(0.2)
            continue
        try:
            conversation = desk.claim(waiting[0].handoff_id, name)
        except ClaimConflictError:
            continue  # the other agent was faster: expected, and exactly what must not double-claim
        with lock:
            claims.append((conversation, name))
        desk.reply(conversation, name, f"您好，我是工作人员{name}，已收到您的问题。")
        desk.hand_back(conversation, name)


def _citizen(base: str, number: int, latencies: list[float], problems: list[str], lock: threading.Lock) -> None:
    headers = {"X-API-Key": KEY}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        session = None
        for turn in range(3):
            question = QUESTIONS[(number + turn) % len(QUESTIONS)]
            started = time.perf_counter()
            response = client.post("/api/v1/ask", json={"question": question, "session_id": session})
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                with lock:
                    problems.append(f"citizen {number}: ask returned {response.status_code}")
                return
            session = response.json()["session_id"]
            with lock:
                latencies.append(elapsed)
        status = client.post(f"/api/v1/sessions/{session}/handoff", json={"reason": "requested"}).json()
        if status["state"] != "waiting":
            with lock:
                problems.append(f"citizen {number}: handoff state {status['state']}")
            return
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            messages = client.get(f"/api/v1/sessions/{session}/messages").json()
            if any(m["role"] == "agent" for m in messages) and client.get(
                    f"/api/v1/sessions/{session}/handoff").json()["state"] == "bot":
                break
            time.sleep(0.5)
        else:
            with lock:
                problems.append(f"citizen {number}: no agent reply within 120 s")
            return
        final = client.post("/api/v1/ask", json={"question": "要多久", "session_id": session}).json()
        if not final["answer"]:
            with lock:
                problems.append(f"citizen {number}: the bot did not answer after the hand-back")
        messages = client.get(f"/api/v1/sessions/{session}/messages").json()
        users = sum(1 for m in messages if m["role"] == "user")
        if users != 4:
            with lock:
                problems.append(f"citizen {number}: {users} stored questions, sent 4")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--citizens", type=int, default=20)
    parser.add_argument("--agents", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        env = {**os.environ, "BANSHI_DATA_DIR": str(data), "BANSHI_API_KEYS": json.dumps({"load": KEY}),
               "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "PYTHONPATH": str(ROOT),
               "BANSHI_RATE_LIMIT": "0"}  # every simulated citizen calls from loopback: one address
        subprocess.run([sys.executable, "app.py", "ingest", "knowledge/demo", "-q"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        port = _free_port()
        server = subprocess.Popen([sys.executable, "app.py", "serve", "--port", str(port)], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.5)
            result = _run(base, f"sqlite:///{data / 'banshi.sqlite'}", args.citizens, args.agents)
        finally:
            server.terminate()
            server.wait(timeout=30)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(f"{args.citizens} citizens, {args.agents} agents: {result['handoffs_claimed']} handoffs claimed "
              f"({result['double_claims']} twice), {len(result['problems'])} problems")
        print(f"answer latency under load: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms "
              f"over {result['answers']} answers; {result['seconds']} s in all")
        for problem in result["problems"]:
            print(f"  {problem}")
    return 0 if not result["problems"] and not result["double_claims"] else 1


def _run(base: str, database_url: str, citizens: int, agents: int) -> dict[str, Any]:
    lock = threading.Lock()
    latencies: list[float] = []
    problems: list[str] = []
    claims: list[tuple[str, str]] = []
    stop = threading.Event()
    started = time.perf_counter()
    agent_threads = [threading.Thread(target=_agent, args=(f"agent{i + 1}", database_url, stop, claims, lock))
                     for i in range(agents)]
    for thread in agent_threads:
        thread.start()
    time.sleep(1.0)  # presence first, or the first handoffs would get callback tickets
    citizen_threads = [threading.Thread(target=_citizen, args=(base, n, latencies, problems, lock))
                       for n in range(citizens)]
    for thread in citizen_threads:
        thread.start()
    for thread in citizen_threads:
        thread.join(timeout=300)
    stop.set()
    for thread in agent_threads:
        thread.join(timeout=30)
    conversations = [c for c, _ in claims]
    return {
        "citizens": citizens, "agents": agents, "answers": len(latencies),
        "p50_ms": round(percentile(latencies, 50), 1), "p95_ms": round(percentile(latencies, 95), 1),
        "handoffs_claimed": len(claims), "double_claims": len(conversations) - len(set(conversations)),
        "claims_per_agent": {a: sum(1 for _, name in claims if name == a) for a in {n for _, n in claims}},
        "problems": problems, "seconds": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    raise SystemExit(main())
