"""``banshi eval``: load cases, run them (and, on request, the ablation), print and write the report."""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

from assistant.build import build_assistant, build_search
from assistant.retriever import HybridSearch
from assistant.service import Assistant
from assistant.settings import Settings
from evals.cases import load_cases
from evals.compare import compare_reports, load_report
from evals.report import render_markdown, render_table
from evals.runner import retrieval_scorer, run_cases, summarise

ABLATIONS: dict[str, dict[str, Any]] = {
    "bm25": {"mode": "bm25"},
    "dense": {"mode": "dense"},
    "hybrid-rrf": {"mode": "hybrid", "fusion": "rrf"},
    "hybrid-weighted": {"mode": "hybrid", "fusion": "weighted"},
}


def evaluate(search: HybridSearch, cases: list[Any], settings: Settings, show_progress: bool,
             assistant: Assistant | None = None) -> dict[str, Any]:
    def progress(done: int, total: int) -> None:
        if show_progress and (done == total or done % 50 == 0):
            print(f"  {done}/{total} cases", file=sys.stderr)

    started = time.perf_counter()
    outcomes = run_cases(cases, search, [retrieval_scorer(search.calibration.refuse_below)], progress, assistant)
    config = {"embedder": search.index.embedder.identity, "data_dir": str(settings.data_dir),
              "calibration": search.calibration.__dict__, "retrieval": search.config.as_dict()}
    report = summarise(outcomes, config)
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def _render(report: dict[str, Any], suffix: str) -> str:
    if suffix == ".html":
        from evals.html_report import render_html  # matplotlib, only for the page

        return render_html(report)
    return render_markdown(report) if suffix == ".md" else json.dumps(report, ensure_ascii=False, indent=2)


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    previous = load_report(args.compare) if args.compare else None  # a bad file fails before the long run
    cases = load_cases(args.cases)
    without = {w.strip() for w in args.without.split(",") if w.strip()}
    base = build_search(settings)
    base = base.with_config(replace(base.config, mode=args.mode, without=frozenset(without - {"synonyms"}),
                                    **({"fusion": args.fusion} if args.fusion else {})))
    if "synonyms" in without:
        base.synonyms = {}
    assistant = None if args.retrieval_only else build_assistant(settings, base)
    report = evaluate(base, cases, settings, not args.json, assistant)
    report["cases_files"] = [str(p) for p in args.cases]
    if args.ablation:
        report["ablation"] = {}
        for name, change in ABLATIONS.items():
            variant = base.with_config(replace(base.config, **change))
            result = evaluate(variant, cases, settings, False)
            report["ablation"][name] = {
                "metrics": result["metrics"]["all"], "latency_ms": result["latency_ms"],
                "by_tag": {tag: result["metrics"][tag] for tag in ("expect-answer", "expect-refuse", "vague")
                           if tag in result["metrics"]},
            }
    report["memory_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    report["finished_at"] = datetime.now().astimezone().isoformat(timespec="seconds")
    if previous is not None:
        report["comparison"] = compare_reports(previous, report, str(args.compare))
    if args.report:
        text = _render(report, args.report.suffix.lower())
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text, encoding="utf-8")
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(render_table(report))
        if args.report:
            print(f"report written to {args.report}")
    return 0
