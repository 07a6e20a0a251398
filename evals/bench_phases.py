"""The province benchmark's phases that load the model, each run in a fresh process (so memory is per phase):
ingest with progress, and retrieval and answer latency in process. Each prints its figures as one JSON line."""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.measure import Meter
from evals.metrics import percentile

WARM_UP = 10  # questions asked before the in-process timings


def _ingest_phase(export: Path, data_dir: Path, label: str, stop_at: float | None) -> dict[str, Any]:

    from assistant.build import open_index
    from assistant.settings import Settings
    from ingest.pipeline import Ingestor, load_source

    started = time.perf_counter()
    settings = Settings(data_dir=data_dir)
    loaded = load_source(export)
    index = open_index(settings)
    meter = Meter(label, stop_at)
    try:
        report = Ingestor(index, batch_size=settings.embed_batch, progress=meter).run([loaded])
    except KeyboardInterrupt:
        return {"interrupted": True, "to_embed": meter.total, "embedded": meter.done,
                "seconds": round(time.perf_counter() - started, 1)}
    finally:
        index.close()
    seconds = time.perf_counter() - started
    return {"guides": report.guides, "chunks": report.chunks, "added": report.added, "unchanged": report.unchanged,
            "updated": report.updated, "rejected": len(report.rejected), "to_embed": meter.total,
            "seconds": round(seconds, 1), "chunks_per_s": round(meter.total / seconds, 1),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def _latency_phase(data_dir: Path, questions_file: Path) -> dict[str, Any]:

    from assistant.build import build_assistant, build_search
    from assistant.hits import Filters
    from assistant.session import Session
    from assistant.settings import Settings
    from assistant.turn import MAX_OPTIONS

    started = time.perf_counter()
    settings = Settings(data_dir=data_dir)
    search = build_search(settings)
    assistant = build_assistant(settings, search)
    loaded = time.perf_counter() - started
    questions = [(q, r) for q, r in json.loads(questions_file.read_text(encoding="utf-8"))]
    for question, region in questions[:WARM_UP]:
        assistant.ask(question, Session(region=region))
    retrieval, answers, regional = [], [], []
    for question, region in questions:  # the step the assistant takes, as it takes it
        begun = time.perf_counter()
        search.search(question, k=MAX_OPTIONS + 1, filters=Filters(region=region))
        retrieval.append((time.perf_counter() - begun) * 1000)
        if region:
            regional.append(retrieval[-1])
    decisions: dict[str, int] = {}  # near-identical copies of a guide for many cities change what is decided
    for question, region in questions:
        begun = time.perf_counter()
        decision = assistant.ask(question, Session(region=region)).decision
        answers.append((time.perf_counter() - begun) * 1000)
        decisions[decision] = decisions.get(decision, 0) + 1
    return {"questions": len(questions), "load_s": round(loaded, 1),
            "retrieval_p50_ms": round(percentile(retrieval, 50), 1),
            "retrieval_p95_ms": round(percentile(retrieval, 95), 1),
            "retrieval_region_p95_ms": round(percentile(regional, 95), 1) if regional else None,
            "with_region": len(regional),
            "answer_p50_ms": round(percentile(answers, 50), 1), "answer_p95_ms": round(percentile(answers, 95), 1),
            "decisions": decisions,
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def phase(argv: Sequence[str]) -> int:
    """Entry point of a phase process (``ingest EXPORT DATA LABEL [STOP_AT]`` or ``latency DATA QUESTIONS``):
    prints its figures as one JSON line."""
    import logging

    logging.basicConfig(level=logging.WARNING)
    if argv[0] == "ingest":
        stop_at = float(argv[4]) if len(argv) > 4 else None
        out = _ingest_phase(Path(argv[1]), Path(argv[2]), argv[3], stop_at)
    elif argv[0] == "latency":
        out = _latency_phase(Path(argv[1]), Path(argv[2]))
    else:
        raise ValueError(f"phase must be ingest or latency. Currently, phase is {argv[0]!r}")
    print(json.dumps(out, ensure_ascii=False))
    return 0
