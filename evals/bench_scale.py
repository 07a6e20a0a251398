"""Province-scale benchmark (not a test): how ingest, retrieval, answers, memory and throughput grow with the guides.

``python -m evals.bench_scale [--sizes 2302,10000,20000] [--seconds 25] [--clients 8] [--fresh] [--json]`` makes
a synthetic province from the real 广东 export (``evals.province``: the 2,302 guides, then each city's copies),
and for each size, smallest first, on one index that grows:

- ingests the first N guides (the same file name each time, so the guides already indexed stay unchanged and
  only the new ones are embedded; progress with rate and ETA on stderr), timed, with the cumulative time;
- in a fresh process over that index: retrieval (the search step alone) and the whole ``ask``, p50 and p95,
  over a fixed question set (gd-answers, then the alias questions of gd-aliases-dev) after a warm-up;
- ``app.py serve`` as a subprocess: start time, VmRSS after a few answers over HTTP, VmHWM after the load;
- answers per second over HTTP (``/api/v1/ask``, ``--clients`` threads for ``--seconds`` each) with one
  process (2 embedder threads, then 1) and with two processes on the same data dir (1 thread each, the
  clients spread over both).

``--chroma-server`` keeps the vectors in a ``chroma run`` server started for the run (the province shape of
docs/deploy.md: the serving processes then hold no vectors) and reports the server's memory too. ``--fresh`` also
ingests the largest size into an empty index. Unless ``--no-resume-check``, it interrupts an
ingest of the smallest size halfway (SIGINT, as Ctrl-C) and runs it again, and reports how much the re-run
embedded: whether an interrupted ingest continues or starts over. It prints a table with each figure's growth
against the smallest size, and the targets beside the figures. Every phase that loads the model is a fresh
process, so memory is per phase; the machine's load average is recorded, as other work skews the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from evals.bench_report import check_targets, report_lines
from evals.load_handoff import Server, free_port
from evals.measure import cpu_seconds, machine_busy_seconds, read_memory
from evals.metrics import percentile
from evals.province import DEFAULT_EXPORT, write_province

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-scale-key"
QUESTION_FILES = (ROOT / "evals" / "cases" / "gd" / "gd-answers.jsonl",
                  ROOT.parent / "shared" / "data" / "gd-aliases-dev.jsonl")
HTTP_WARM_UP = 8  # questions each server answers before its memory is read
CONFIGS = ((1, 2), (1, 1), (2, 1))  # (processes, embedder threads each)
STOP_AT = 0.5  # the resume check interrupts its ingest after this share of the chunks


# -- pure helpers ------------------------------------------------------------------------------
def parse_sizes(text: str) -> list[int]:
    """``"2302,10000,20000"`` → ascending distinct guide counts; raises ValueError naming the bad value."""
    sizes = []
    for part in text.split(","):
        part = part.strip().replace("_", "")
        if not part.isdigit() or int(part) < 1:
            raise ValueError(f"sizes must be whole numbers greater than 0. Currently, one size is {part!r}")
        sizes.append(int(part))
    if sizes != sorted(set(sizes)):
        raise ValueError(f"sizes must be distinct and ascending (the index grows). Currently, sizes is {text!r}")
    return sizes


def load_questions(limit: int, files: Sequence[Path] = QUESTION_FILES) -> list[tuple[str, str | None]]:
    """``(question, region)`` of the first ``limit`` cases of the files, in order; a missing file is skipped."""
    questions: list[tuple[str, str | None]] = []
    for path in files:
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and len(questions) < limit:
                case = json.loads(line)
                questions.append((case["question"], case.get("region")))
    return questions


# -- phases in their own process (evals.bench_phases) ------------------------------------------


def _run_phase(env: dict[str, str], *args: str) -> dict[str, Any]:
    code = "import sys; from evals.bench_phases import phase; raise SystemExit(phase(sys.argv[1:]))"
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, check=True,
                         stdout=subprocess.PIPE, text=True)  # stderr passes through: the progress
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# -- serving -----------------------------------------------------------------------------------
def _ask_over_http(servers: Sequence[Server], questions: Sequence[tuple[str, str | None]], clients: int,
                   seconds: float) -> dict[str, Any]:
    """``clients`` threads asking for ``seconds`` (thread i on server i mod n); answers/s over the whole run."""
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        server = servers[number % len(servers)]
        position = number * len(questions) // clients  # each thread starts elsewhere in the set
        with httpx.Client(base_url=server.base, headers={"X-API-Key": KEY}, timeout=120) as http:
            while time.monotonic() < deadline:
                question, region = questions[position % len(questions)]
                position += 1
                begun = time.perf_counter()
                try:
                    response = http.post("/api/v1/ask", json={"question": question, "region": region})
                except httpx.HTTPError as err:
                    with lock:
                        errors.append(f"{type(err).__name__}: {err}")
                    continue
                with lock:
                    if response.status_code == 200:
                        latencies.append((time.perf_counter() - begun) * 1000)
                    else:
                        errors.append(f"HTTP {response.status_code}: {response.text[:200]}")

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"answers": len(latencies), "answers_per_s": round(len(latencies) / elapsed, 2),
            "p50_ms": round(percentile(latencies, 50), 1), "p95_ms": round(percentile(latencies, 95), 1),
            "errors": len(errors), "first_errors": errors[:3]}


def _serve(env: dict[str, str], work: Path, label: str, processes: int, threads: int,
           questions: Sequence[tuple[str, str | None]], clients: int, seconds: float) -> dict[str, Any]:
    servers = [Server({**env, "BANSHI_EMBED_THREADS": str(threads)}, work / f"serve-{label}-{n}.log",
                      start_timeout=600) for n in range(processes)]
    try:
        starts = []
        for server in servers:  # one after the other: each start is timed alone
            begun = time.perf_counter()
            server.start()
            starts.append(time.perf_counter() - begun)
        memory = []
        for server in servers:
            with httpx.Client(base_url=server.base, headers={"X-API-Key": KEY}, timeout=120) as http:
                for question, region in questions[:HTTP_WARM_UP]:
                    http.post("/api/v1/ask", json={"question": question, "region": region}).raise_for_status()
            assert server.process is not None
            memory.append(read_memory(server.process.pid))
        pids = [s.process.pid for s in servers if s.process is not None]
        before = ([cpu_seconds(pid) for pid in pids], cpu_seconds(os.getpid()), machine_busy_seconds(),
                  time.perf_counter())
        load = _ask_over_http(servers, questions, clients, seconds)
        elapsed = time.perf_counter() - before[3]
        servers_cpu = sum(cpu_seconds(pid) - used for pid, used in zip(pids, before[0], strict=True))
        # Cores each kind of work kept busy during the load: the servers, this script's HTTP clients, and all the
        # machine's work (the rest is PostgreSQL, the Chroma server and anything else running).
        load["cores"] = {"servers": round(servers_cpu / elapsed, 2),
                         "clients": round((cpu_seconds(os.getpid()) - before[1]) / elapsed, 2),
                         "machine": round((machine_busy_seconds() - before[2]) / elapsed, 2)}
        peaks = [read_memory(pid)["hwm_mib"] for pid in pids]
    finally:
        for server in servers:
            server.stop()
    return {"processes": processes, "threads": threads, "start_s": round(max(starts), 1),
            "rss_mib": max(m["rss_mib"] for m in memory), "hwm_mib": max(peaks), **load}


# -- the run -----------------------------------------------------------------------------------
def _say(text: str) -> None:
    print(f"[bench-scale {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _size(lines: list[str], guides: int, work: Path, data: Path, env: dict[str, str], args: argparse.Namespace,
          questions: list[tuple[str, str | None]], chroma: ChromaServer | None = None) -> dict[str, Any]:
    export = work / "province.jsonl"  # one name for every size: one origin, so a bigger file adds to the index
    export.write_text("".join(lines[:guides]), encoding="utf-8")
    regions = {json.loads(line)["行政区划"] for line in lines[:guides]}
    asked = [(q, r if r in regions else None) for q, r in questions]  # a region the knowledge lacks is a 422
    questions_file = work / f"questions-{guides}.json"
    questions_file.write_text(json.dumps(asked, ensure_ascii=False), encoding="utf-8")
    _say(f"{guides:,} guides: ingest")
    env = _store(env, data)
    ingest = _run_phase(env, "ingest", str(export), str(data), f"{guides:,} guides")
    _say(f"{guides:,} guides: {ingest['chunks']:,} chunks, {ingest['to_embed']:,} embedded in {ingest['seconds']} s, "
         f"{ingest['rejected']} rejected; retrieval and answer latency over {len(asked)} questions")
    latency = _run_phase(env, "latency", str(data), str(questions_file))
    serve = {}
    for processes, threads in CONFIGS:
        label = f"{processes}x{threads}"
        _say(f"{guides:,} guides: {processes} serving process(es), {threads} embedder thread(s) each, "
             f"{args.clients} clients for {args.seconds:g} s")
        serve[label] = _serve({**env, "BANSHI_DATA_DIR": str(data)}, work, f"{guides}-{label}", processes, threads,
                              asked, args.clients, args.seconds)
    # One and two processes again, in turn (answers/s of each pair), as the machine's pace drifts between settings.
    repeats = []
    for run in range(2, args.repeat + 1):
        _say(f"{guides:,} guides: 1 and then 2 serving processes again ({run} of {args.repeat})")
        repeats.append([_serve({**env, "BANSHI_DATA_DIR": str(data)}, work, f"{guides}-{n}x1-{run}", n, 1, asked,
                               args.clients, args.seconds)["answers_per_s"] for n in (1, 2)])
    out = {"guides": guides, "ingest": ingest, "latency": latency, "serve": serve, "repeats": repeats}
    if chroma is not None and chroma.process is not None:
        out["chroma_rss_mib"] = read_memory(chroma.process.pid)["rss_mib"]
    return out


def _store(env: dict[str, str], data: Path) -> dict[str, str]:
    """``env`` for the index in ``data``: on a Chroma server, each index in a collection of its own."""
    return {**env, "BANSHI_COLLECTION": f"bench-{data.name}"} if "BANSHI_CHROMA_URL" in env else env


class ChromaServer:
    """``chroma run`` (from the chromadb package) on a free port, its data in ``path``."""

    def __init__(self, path: Path, log: Path) -> None:
        self.path, self.log = path, log
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> str:
        binary = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
        if binary is None:
            raise RuntimeError("--chroma-server needs the chroma command of the chromadb package")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen([binary, "run", "--path", str(self.path), "--host", "127.0.0.1",
                                             "--port", str(port)], stdout=out, stderr=out,
                                            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    return self.url
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Chroma server did not start; see {self.log}")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)


def _resume_check(lines: list[str], guides: int, work: Path, env: dict[str, str]) -> dict[str, Any]:
    export, data = work / "resume.jsonl", work / "resume-data"
    shutil.rmtree(data, ignore_errors=True)  # from an earlier run in the same --work-dir
    export.write_text("".join(lines[:guides]), encoding="utf-8")
    env = _store(env, data)
    _say(f"resume check: an ingest of {guides:,} guides interrupted after {STOP_AT:.0%} of its chunks, then again")
    first = _run_phase(env, "ingest", str(export), str(data), f"{guides:,} guides, to be interrupted", str(STOP_AT))
    again = _run_phase(env, "ingest", str(export), str(data), f"{guides:,} guides, after the interrupt")
    left = first["to_embed"] - first["embedded"]
    return {"guides": guides, "interrupted": bool(first.get("interrupted")), "to_embed": first["to_embed"],
            "embedded_before_interrupt": first["embedded"], "rerun_embedded": again["to_embed"],
            "rerun_seconds": again["seconds"], "rerun_rejected": again["rejected"],
            # within a batch of what was left: the re-run did not embed again what the first run had written
            "continues": again["to_embed"] <= left + 64}


def _env(args: argparse.Namespace) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False",
           "BANSHI_API_KEYS": json.dumps({"bench": KEY}), "BANSHI_RATE_LIMIT": "0", "BANSHI_ADDRESS_RATE_LIMIT": "0"}
    if args.database_url:
        env["BANSHI_DATABASE_URL"] = args.database_url
    return env


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    chroma = ChromaServer(work / "chroma-server", work / "chroma-server.log") if args.chroma_server else None
    try:
        if chroma is not None:
            _say(f"vectors in a Chroma server at {chroma.start()}")
        return _run(args, work, chroma)
    finally:
        if chroma is not None:
            chroma.stop()


def _run(args: argparse.Namespace, work: Path, chroma: ChromaServer | None) -> dict[str, Any]:
    started = time.perf_counter()
    load_before = os.getloadavg()
    env = _env(args)
    if chroma is not None:
        env["BANSHI_CHROMA_URL"] = chroma.url
    largest = work / "province-largest.jsonl"
    counts = write_province(args.export, largest, args.sizes[-1])
    _say(f"province file: {sum(counts.values()):,} guides ({', '.join(f'{k} {v:,}' for k, v in counts.items())})")
    lines = largest.read_text(encoding="utf-8").splitlines(keepends=True)
    questions = load_questions(args.questions)
    sizes, cumulative = [], 0.0
    for guides in args.sizes:
        size = _size(lines, guides, work, work / "data", env, args, questions, chroma)
        cumulative += size["ingest"]["seconds"]
        size["cumulative_ingest_s"] = round(cumulative, 1)
        sizes.append(size)
    fresh = None
    if args.fresh:
        _say(f"fresh ingest of {args.sizes[-1]:,} guides into an empty index")
        shutil.rmtree(work / "fresh-data", ignore_errors=True)
        fresh = _run_phase(_store(env, work / "fresh-data"), "ingest", str(largest), str(work / "fresh-data"),
                           f"{args.sizes[-1]:,} guides, fresh")
    resume = None if args.no_resume_check else _resume_check(lines, args.sizes[0], work, env)
    result: dict[str, Any] = {
        "sizes": sizes, "fresh": fresh, "resume": resume,
        "settings": {"clients": args.clients, "seconds": args.seconds, "questions": len(questions),
                     "database": "postgresql" if args.database_url else "sqlite (one file, every process)",
                     "vectors": "chroma server" if chroma is not None else "embedded in each process",
                     "cores": os.cpu_count()},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.perf_counter() - started, 1), "measured_at": time.strftime("%Y-%m-%d %H:%M"),
    }
    result["targets"] = [{"name": t.name, "value": None if t.value is None else round(t.value, 2), "limit": t.limit,
                          "unit": t.unit, "met": t.met, "note": t.note} for t in check_targets(result)]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="2302,10000,20000",
                        help="guide counts, ascending (default 2302,10000,20000)")
    parser.add_argument("--seconds", type=float, default=25.0, help="seconds of HTTP load per setting (default 25)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure one and two processes this many times in turn at each size; the ratio is the "
                             "median of the pairs (default 1)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients (default 8)")
    parser.add_argument("--questions", type=int, default=200, help="questions in the fixed set (default 200)")
    parser.add_argument("--fresh", action="store_true", help="also ingest the largest size into an empty index")
    parser.add_argument("--no-resume-check", action="store_true", help="skip the interrupted-ingest check")
    parser.add_argument("--database-url", help="conversations in this database (e.g. postgresql+psycopg://…) "
                                               "instead of a SQLite file in the data dir")
    parser.add_argument("--chroma-server", action="store_true",
                        help="keep the vectors in a `chroma run` server started for the run, as a province would")
    parser.add_argument("--export", type=Path, default=DEFAULT_EXPORT, help="the real export the province is made from")
    parser.add_argument("--work-dir", type=Path, help="keep the province file, indexes and server logs here (default: "
                                                      "a temporary directory, removed at the end); a re-run on the "
                                                      "same directory reuses its indexes")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    try:
        args.sizes = parse_sizes(args.sizes)
    except ValueError as err:
        parser.error(str(err))
    if args.seconds <= 0 or args.clients < 1 or args.questions < 1 or args.repeat < 1:
        parser.error(f"seconds, clients, questions and repeat must be greater than 0. Currently, they are "
                     f"{args.seconds}, {args.clients}, {args.questions} and {args.repeat}")
    if not args.export.is_file():
        print(f"error: {args.export}: no such export", file=sys.stderr)
        return 1
    try:
        if args.work_dir:
            args.work_dir.mkdir(parents=True, exist_ok=True)
            result = run(args, args.work_dir)
        else:
            with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
                result = run(args, Path(tmp))
    except (subprocess.CalledProcessError, RuntimeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else "\n".join(report_lines(result)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
