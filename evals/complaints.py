"""Precision and recall of the complaint detector, and of the cue words alone, on labelled messages.

    python -m evals.complaints [evals/complaints/heldout.jsonl] [--json] [--refresh]

``turn`` is what a turn does: the cue words, then the detector. The held-out messages
(``evals/complaints/heldout.jsonl``) are never used to build or tune the detector.
``--refresh`` rewrites the cached centroids (``assistant/data/complaint-centroids.json``) from the examples.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from assistant.complaints import CENTROIDS, ComplaintDetector, Example, load_examples
from assistant.intent import wants_human
from assistant.query import load_synonyms, normalise_query
from knowledge.embedders import make_embedder

HELDOUT = Path(__file__).resolve().parent / "complaints" / "heldout.jsonl"


def scores(examples: list[Example], says_complaint: Callable[[str], bool]) -> dict[str, dict[str, float]]:
    """Precision, recall and count per class, with each message's predicted class."""
    predicted = [("complaint" if says_complaint(e.text) else "question") for e in examples]
    result = {}
    for label in ("complaint", "question"):
        hits = sum(1 for e, p in zip(examples, predicted, strict=True) if p == label == e.label)
        said = sum(1 for p in predicted if p == label)
        real = sum(1 for e in examples if e.label == label)
        result[label] = {"precision": round(hits / said, 3) if said else 0.0,
                         "recall": round(hits / real, 3) if real else 0.0, "n": float(real)}
    return result


def keyword_baseline(text: str) -> bool:
    """What the cue words alone send to a person (投诉, 工作人员, 找领导 …)."""
    return wants_human(normalise_query(text, _SYNONYMS).text)


_SYNONYMS = load_synonyms()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.complaints")
    parser.add_argument("path", nargs="?", type=Path, default=HELDOUT)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--refresh", action="store_true", help="recompute and save the cached centroids first")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    detector = ComplaintDetector(make_embedder("e5", threads=args.threads),
                                 centroids=None if args.refresh else CENTROIDS)
    if args.refresh:
        detector.save(CENTROIDS)
    detector.warm_up()
    detector.embedder.warm_up()
    examples = load_examples(args.path)
    timings: list[float] = []

    def timed(text: str) -> bool:
        started = time.perf_counter()
        found = detector.is_complaint(text)
        timings.append((time.perf_counter() - started) * 1000)
        return found

    results = {"detector": scores(examples, timed), "keywords": scores(examples, keyword_baseline),
               "turn": scores(examples, lambda text: keyword_baseline(text) or detector.is_complaint(text))}
    report: dict[str, object] = {"examples": str(args.path), **results,
                                 "ms_p50": round(statistics.median(timings), 1),
                                 "ms_p95": round(sorted(timings)[int(0.95 * (len(timings) - 1))], 1)}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(f"{args.path}: {len(examples)} messages")
    for name, result in results.items():
        for label, s in result.items():
            print(f"  {name:9} {label:9} precision {s['precision']:.3f}  recall {s['recall']:.3f}  (n={int(s['n'])})")
    print(f"  detector time per message: p50 {report['ms_p50']} ms, p95 {report['ms_p95']} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
