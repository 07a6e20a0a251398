"""Render an evaluation report as a terminal table or a markdown page."""

from __future__ import annotations

from typing import Any

COLUMNS = ["cases", "hit@1", "hit@5", "mrr@10", "confident", "refused", "decision", "facts", "citation",
           "unsupported", "answer-first", "speech-fact"]
LENGTH_COLUMNS = ["answers", "text p50", "text p90", "text max", "speech p50", "speech p90", "speech max"]


def _row(name: str, metrics: dict[str, Any]) -> str:
    cells = [str(metrics.get(c, "")) if c == "cases" else
             (f"{metrics[c]:.3f}" if c in metrics else "-") for c in COLUMNS]
    return f"| {name} | " + " | ".join(cells) + " |"


def _table(report: dict[str, Any]) -> list[str]:
    lines = ["| tag | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    lines += [_row(tag, m) for tag, m in report["metrics"].items()]
    return lines


def _length_table(report: dict[str, Any]) -> list[str]:
    """Characters of the answers given, per tag (text is the web markdown, speech the spoken line)."""
    lines = ["| tag | " + " | ".join(LENGTH_COLUMNS) + " |", "|---" * (len(LENGTH_COLUMNS) + 1) + "|"]
    for tag, m in report.get("lengths", {}).items():
        cells = [m["answers"], *(m[part][q] for part in ("text", "speech") for q in ("p50", "p90", "max"))]
        lines.append(f"| {tag} | " + " | ".join(str(c) for c in cells) + " |")
    return lines


def render_table(report: dict[str, Any]) -> str:
    lines = _table(report)
    if "lengths" in report:
        lines += ["", "answer length (characters):", *_length_table(report), ""]
    latency = report["latency_ms"]
    lines.append(f"latency (retrieval): p50 {latency['p50']} ms, p95 {latency['p95']} ms; "
                 f"peak memory {report.get('memory_mb', '?')} MB")
    if "answer_latency_ms" in report:
        answer = report["answer_latency_ms"]
        lines.append(f"latency (full answer): p50 {answer['p50']} ms, p95 {answer['p95']} ms; "
                     f"unsupported statements: {report['unsupported_total']}; "
                     f"{len(report['answer_failures'])} answer failures")
    if "ablation" in report:
        lines.append("")
        lines.append("ablation:")
        lines += [_row(name, r["metrics"]) + f" p95 {r['latency_ms']['p95']} ms"
                  for name, r in report["ablation"].items()]
    lines.append(f"{len(report['failures'])} failures (see --report or --json)")
    return "\n".join(lines)


def render_markdown(report: dict[str, Any]) -> str:
    lines = ["# banshi evaluation report", "", f"Cases: {', '.join(report.get('cases_files', []))}", "",
             "## Metrics by tag", "", *_table(report), ""]
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
    lines += ["## Configuration", "", "```", *[f"{k}: {v}" for k, v in report["config"].items()], "```", "",
              f"## Failures ({len(report['failures'])})", ""]
    for failure in report["failures"]:
        lines.append(f"- `{failure['id']}` {failure['question']} — expected {failure['expected']}, "
                     f"got {'; '.join(failure['got']) or 'nothing'} (confidence {failure['confidence']})")
    if "answer_failures" in report:
        lines += ["", f"## Answer failures ({len(report['answer_failures'])})", ""]
        for failure in report["answer_failures"]:
            lines.append(f"- `{failure['id']}` {failure['question']} — expected {failure['expect']} "
                         f"{failure['expected']}, got {failure['decision']} {failure['cited']}; "
                         f"missing {failure['missing_facts']}; unsupported {failure['unsupported']}; "
                         f"led with: {' '.join(failure.get('led_with', '').split())}")
    return "\n".join(lines) + "\n"
