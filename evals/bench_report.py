"""The province benchmark's report: the table of figures with their growth against the smallest size, and the
targets judged at the largest."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    name: str
    value: float | None
    limit: float
    unit: str
    at_least: bool = False  # the figure must reach the limit (throughput), not stay under it
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.limit if self.at_least else self.value <= self.limit


def growth(values: Sequence[float | None]) -> list[float | None]:
    """Each value after the first as a multiple of the first (None where either is missing or the first is 0)."""
    first = values[0] if values else None
    return [None if first is None or value is None or first == 0 else value / first for value in values[1:]]


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows of text as aligned lines: the first column left, the others right."""
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [row[0] + " " * (widths[0] - _width(row[0]))]
        cells += [" " * (w - _width(cell)) + cell for cell, w in zip(row[1:], widths[1:], strict=True)]
        return "  ".join(cells).rstrip()

    return [line(header), *(line(row) for row in rows)]


def _width(text: str) -> int:
    return sum(2 if "\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" else 1 for ch in text)


def check_targets(result: dict[str, Any]) -> list[Target]:
    """The targets, judged at the largest size measured (they are set for 20,000 guides)."""
    last = result["sizes"][-1]
    at = f"at {last['guides']:,} guides" + ("" if last["guides"] >= 20_000 else "; the target is for 20,000")
    fresh = result.get("fresh")
    ingest = (fresh["seconds"], "from scratch") if fresh else (last["cumulative_ingest_s"], "cumulative, growing")
    serve = [s for size in result["sizes"] for s in size["serve"].values()]
    one = max((s["answers_per_s"] for s in last["serve"].values() if s["processes"] == 1), default=None)
    two = last["serve"]["2x1"]["answers_per_s"] if "2x1" in last["serve"] else None
    ratio, ratio_note = _processes_ratio(last, one, two)
    return [
        Target("retrieval p95", last["latency"]["retrieval_p95_ms"], 100, "ms", note=at),
        Target("ingest", ingest[0] / 60, 20, "min", note=f"{ingest[1]}, {at}"),
        Target("RSS per serving process", max((s["hwm_mib"] for s in serve), default=None), 900, "MiB",
               note="VmHWM, every size and setting"),
        Target("2 processes / 1", ratio, 1.6, "×", at_least=True, note=ratio_note),
    ]


_ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("chunks", ("ingest", "chunks")),
    ("ingest, this step (s)", ("ingest", "seconds")),
    ("ingest, cumulative (s)", ("cumulative_ingest_s",)),
    ("chunks embedded this step", ("ingest", "to_embed")),
    ("embedding rate (chunks/s)", ("ingest", "chunks_per_s")),
    ("ingest peak RSS (MiB)", ("ingest", "peak_rss_mib")),
    ("search + assistant load (s)", ("latency", "load_s")),
    ("retrieval p50 (ms)", ("latency", "retrieval_p50_ms")),
    ("retrieval p95 (ms)", ("latency", "retrieval_p95_ms")),
    ("retrieval p95, with a region (ms)", ("latency", "retrieval_region_p95_ms")),
    ("answer p50 (ms)", ("latency", "answer_p50_ms")),
    ("answer p95 (ms)", ("latency", "answer_p95_ms")),
    ("questions answered", ("latency", "decisions", "answer")),
    ("questions asked back (clarify)", ("latency", "decisions", "clarify")),
    ("serve: start to healthy (s)", ("serve", "1x2", "start_s")),
    ("serve: RSS after warm-up (MiB)", ("serve", "1x2", "rss_mib")),
    ("serve: VmHWM after load (MiB)", ("serve", "1x2", "hwm_mib")),
    ("serve ×2: VmHWM, larger (MiB)", ("serve", "2x1", "hwm_mib")),
    ("Chroma server RSS (MiB)", ("chroma_rss_mib",)),
    ("answers/s, 1 process, 2 threads", ("serve", "1x2", "answers_per_s")),
    ("answers/s, 1 process, 1 thread", ("serve", "1x1", "answers_per_s")),
    ("answers/s, 2 processes, 1 thread", ("serve", "2x1", "answers_per_s")),
    ("cores busy: servers, 1 process (1 thread)", ("serve", "1x1", "cores", "servers")),
    ("cores busy: servers, 2 processes", ("serve", "2x1", "cores", "servers")),
    ("cores busy: HTTP clients, 2 processes", ("serve", "2x1", "cores", "clients")),
    ("cores busy: whole machine, 2 processes", ("serve", "2x1", "cores", "machine")),
    ("HTTP answer p95 under load, 1 process (ms)", ("serve", "1x2", "p95_ms")),
    ("HTTP answer p95 under load, 2 processes (ms)", ("serve", "2x1", "p95_ms")),
)


def _get(size: dict[str, Any], path: tuple[str, ...]) -> float | None:
    value: Any = size
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return float(value) if isinstance(value, int | float) else None


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000 or value == int(value) else f"{value:,.1f}"


def report_lines(result: dict[str, Any]) -> list[str]:
    """The human-readable report of a run's result."""
    sizes = result["sizes"]
    header = ["guides", *(f"{s['guides']:,}" for s in sizes), *(f"{s['guides']:,}/{sizes[0]['guides']:,}"
                                                             for s in sizes[1:])]
    rows = []
    for label, path in _ROWS:
        values = [_get(s, path) for s in sizes]
        rows.append([label, *map(_number, values), *(f"×{g:.2f}" if g is not None else "-" for g in growth(values))])
    for threads in (2, 1):
        ratios = [_ratio(s, threads) for s in sizes]
        rows.append([f"2 processes / 1 process, {threads} thread{'s' if threads > 1 else ''}",
                     *(f"{r:.2f}" if r else "-" for r in ratios), *([""] * (len(sizes) - 1))])
    lines = format_table(header, rows)
    settings = result["settings"]
    lines.append(f"({settings['questions']} questions in process; {settings['clients']} HTTP clients for "
                 f"{settings['seconds']:g} s per setting; {settings['database']}; {settings['cores']} cores; "
                 f"load average {result['load_average_before'][0]} before, {result['load_average_after'][0]} after)")
    errors = sum(v["errors"] for s in sizes for v in s["serve"].values())
    if errors:
        lines.append(f"HTTP errors: {errors}, e.g. "
                     + "; ".join(e for s in sizes for v in s["serve"].values() for e in v["first_errors"])[:300])
    rejected = [s["guides"] for s in sizes if s["ingest"]["rejected"]]
    lines.append("rejected at ingest: " + (f"some, at {rejected}" if rejected else "0 at every size"))
    if result["fresh"]:
        fresh = result["fresh"]
        lines.append(f"fresh ingest of {fresh['guides']:,} guides: {fresh['seconds']} s ({fresh['seconds'] / 60:.1f} "
                     f"min, {fresh['chunks']:,} chunks, {fresh['chunks_per_s']} chunks/s, peak RSS "
                     f"{fresh['peak_rss_mib']} MiB)")
    if result["resume"]:
        resume = result["resume"]
        how = "continues where it stopped" if resume["continues"] else "starts over (embeds every chunk again)"
        lines.append(f"resume after Ctrl-C ({resume['guides']:,} guides): stopped after "
                     f"{resume['embedded_before_interrupt']:,} of {resume['to_embed']:,} chunks; the re-run embedded "
                     f"{resume['rerun_embedded']:,} in {resume['rerun_seconds']} s: it {how}")
    lines.append("targets:")
    for target in result["targets"]:
        mark = {True: "met", False: "MISSED", None: "not measured"}[target["met"]]
        value = "-" if target["value"] is None else f"{target['value']:.2f}"
        sign = "≥" if target["unit"] == "×" else "≤"
        lines.append(f"  {target['name']}: {value} {target['unit']} ({sign} {target['limit']:g}): {mark}"
                     f" [{target['note']}]")
    lines.append(f"{result['seconds']} s in all")
    return lines


def _processes_ratio(size: dict[str, Any], one: float | None, two: float | None) -> tuple[float | None, str]:
    """The target's value and note: the median ratio of the pairs when the run repeated them, else the one pair's
    (against the faster thread setting of one process)."""
    at = f"at {size['guides']:,} guides"
    pairs = [_ratio(size, 1), *(b / a if a else None for a, b in size.get("repeats") or [])]
    runs = [round(r, 2) for r in pairs if r is not None]
    if len(pairs) > 1 and runs:
        shown = ", ".join(map(str, runs))
        return statistics.median(runs), f"median of {len(runs)} pairs of 1 and 2 processes ({shown}), {at}"
    return (two / one if one and two is not None else None,
            f"answers/s against the faster thread setting of one process, {at}")


def _ratio(size: dict[str, Any], threads: int) -> float | None:
    one, two = _get(size, ("serve", f"1x{threads}", "answers_per_s")), _get(size, ("serve", "2x1", "answers_per_s"))
    return two / one if one and two is not None else None
