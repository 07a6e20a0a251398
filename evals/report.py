"""Render an evaluation report as a terminal table or a markdown page."""

from __future__ import annotations

from typing import Any

from evals.headline import HEADLINES

COLUMNS = ["cases", "hit@1", "hit@5", "mrr@10", "confident", "refused", "decision", "offered", "facts", "citation",
           "unsupported", "false-confident", "answer-first", "speech-fact"]
LENGTH_COLUMNS = ["answers", "text p50", "text p90", "text max", "shown p50", "shown p90", "shown max", "speech p50",
                  "speech p90", "speech max"]
TERMINAL_IDS = 20  # case ids a comparison lists in the terminal; the markdown and HTML reports list all
HANDOFF_NOTE = ("hit@1, hit@5, mrr@10 and confident leave out cases that expect a handoff (they ask for a person, "
                "not a guide): – on their rows.")


def failed_cases(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The cases that failed at least one check (``failed`` in each case record), in run order."""
    return [case for case in report.get("cases", []) if case["failed"]]


def failed_count(report: dict[str, Any]) -> str:
    """"12 of 335", the one failure count every rendering shows."""
    return f"{len(failed_cases(report))} of {len(report.get('cases', []))}"


def _failure_line(case: dict[str, Any]) -> str:
    expected = f"{case['expect']} {', '.join(case['expected_ids']) or 'no guide'}"
    if case["expected_facts"]:
        expected += f" stating {'; '.join(case['expected_facts'])}"
    got = f"rank 1 {case['retrieved'][0] if case['retrieved'] else 'nothing'} (confidence {case['confidence']})"
    if "decision" in case:
        got += f", {case['decision']} citing {', '.join(case['cited']) or 'nothing'}"
        if case["missing_facts"]:
            got += f", missing {'; '.join(case['missing_facts'])}"
        if case["unsupported"]:
            got += f", unsupported {case['unsupported']}"
        got += f"; led with: {' '.join(case['led_with'].split())}"
    return f"- `{case['id']}` {case['question']} — failed {', '.join(case['failed'])}; expected {expected}; got {got}"


def _ids(ids: list[str], limit: int | None) -> str:
    shown = ids if limit is None or len(ids) <= limit else [*ids[:limit], f"… {len(ids) - limit} more"]
    return f" ({', '.join(shown)})" if shown else ""


def _comparison_lines(report: dict[str, Any], limit: int | None = None) -> list[str]:
    """The headline metrics then and now, and the cases that got better or worse (ids, the first ``limit``)."""
    comparison = report.get("comparison")
    if not comparison:
        return []
    failed = comparison["failed"]
    lines = [f"compared with {comparison['previous']}:", "",
             "| metric | previous | current |", "|---|---|---|"]
    for headline in HEADLINES:
        values = comparison["metrics"][headline.key]
        lines.append(f"| {headline.name} | {headline.show(values['previous'])} | {headline.show(values['current'])} |")
    lines += [f"| failed cases | {failed['previous']} | {failed['current']} |", ""]
    if not comparison["cases_listed"]:
        lines.append(f"{comparison['previous']} lists only its failures: a case it does not list counts as passed.")
    if not comparison["answers_compared"]:
        lines.append("one of the two runs gave no answers: cases are compared on retrieval only.")
    for key, label in (("better", "better (failed before, pass now)"), ("worse", "worse (passed before, fail now)")):
        lines.append(f"{label}: {len(comparison[key])}{_ids([c['id'] for c in comparison[key]], limit)}")
    lines.append(f"still failing: {comparison['still_failing']}")
    for key, label in (("only_previous", f"only in {comparison['previous']}"), ("only_current", "only in this run")):
        if comparison[key]:
            lines.append(f"{label}: {len(comparison[key])}{_ids(comparison[key], limit)}")
    return lines


def _row(name: str, metrics: dict[str, Any]) -> str:
    cells = [str(metrics.get(c, "")) if c == "cases" else
             (f"{metrics[c]:.3f}" if c in metrics else "–") for c in COLUMNS]
    return f"| {name} | " + " | ".join(cells) + " |"


def _table(report: dict[str, Any]) -> list[str]:
    lines = ["| tag | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    lines += [_row(tag, m) for tag, m in report["metrics"].items()]
    return lines


def _length_table(report: dict[str, Any]) -> list[str]:
    """Characters of the answers given, per tag (text is the web markdown, shown the same as a reader sees it,
    speech the spoken line)."""
    lines = ["| tag | " + " | ".join(LENGTH_COLUMNS) + " |", "|---" * (len(LENGTH_COLUMNS) + 1) + "|"]
    for tag, m in report.get("lengths", {}).items():
        cells = [m["answers"], *(m[part][q] for part in ("text", "shown", "speech") for q in ("p50", "p90", "max"))]
        lines.append(f"| {tag} | " + " | ".join(str(c) for c in cells) + " |")
    return lines


def _handoff_note(report: dict[str, Any]) -> list[str]:
    return [HANDOFF_NOTE] if "expect-handoff" in report["metrics"] else []


def render_table(report: dict[str, Any]) -> str:
    lines = [*_table(report), *_handoff_note(report)]
    if "lengths" in report:
        lines += ["", "answer length (characters):", *_length_table(report), ""]
    latency = report["latency_ms"]
    lines.append(f"latency (retrieval): p50 {latency['p50']} ms, p95 {latency['p95']} ms; "
                 f"peak memory {report.get('memory_mb', '?')} MB")
    if "answer_latency_ms" in report:
        answer = report["answer_latency_ms"]
        lines.append(f"latency (full answer): p50 {answer['p50']} ms, p95 {answer['p95']} ms; "
                     f"unsupported statements: {report['unsupported_total']}")
    if "ablation" in report:
        lines.append("")
        lines.append("ablation:")
        lines += [_row(name, r["metrics"]) + f" p95 {r['latency_ms']['p95']} ms"
                  for name, r in report["ablation"].items()]
    lines.append(f"{failed_count(report)} cases failed a retrieval or answer check (see --report or --json)")
    if "comparison" in report:
        lines += ["", *_comparison_lines(report, limit=TERMINAL_IDS)]
    return "\n".join(lines)


def render_markdown(report: dict[str, Any]) -> str:
    lines = ["# banshi evaluation report", "", f"Cases: {', '.join(report.get('cases_files', []))}", "",
             "## Metrics by tag", "", *_table(report), "", *_handoff_note(report), ""]
    if "lengths" in report:
        lines += ["## Answer length by tag (characters)", "", *_length_table(report), ""]
    latency = report["latency_ms"]
    lines += [f"Retrieval latency: p50 {latency['p50']} ms, p95 {latency['p95']} ms, max {latency['max']} ms. "
              f"Peak memory (RSS) of the eval process: {report.get('memory_mb', '?')} MB.", ""]
    if "answer_latency_ms" in report:
        answer = report["answer_latency_ms"]
        lines += [f"Full answer latency: p50 {answer['p50']} ms, p95 {answer['p95']} ms. "
                  f"Unsupported statements: {report['unsupported_total']}.", ""]
    if "ablation" in report:
        lines += ["## Ablation", "", "| variant | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
        lines += [_row(name, r["metrics"]) for name, r in report["ablation"].items()]
        lines.append("")
    if "comparison" in report:
        lines += ["## Comparison", "", *_comparison_lines(report), ""]
    lines += ["## Configuration", "", "```", *[f"{k}: {v}" for k, v in report["config"].items()], "```", "",
              f"## Failed cases ({failed_count(report)})", "",
              "A case fails when the guide at rank 1 is not an expected one (hit@1), an out-of-scope question "
              "scores above the threshold (refused), or the answer has the wrong decision, misses an expected "
              "fact, cites another guide first or states something its sources do not (unsupported).", ""]
    lines += [_failure_line(case) for case in failed_cases(report)]
    return "\n".join(lines) + "\n"
