"""Charts of an eval report, drawn by matplotlib as SVG to inline in a page.

Text is drawn as paths, so a chart shows the same in any browser, offline and without fonts. Chinese
labels need a CJK font on the machine that draws (Debian: fonts-noto-cjk); without one the labels are
English, and glyphs a font lacks (a Chinese tag) are left out silently.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure  # the object API draws without pyplot or any interactive backend
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "WenQuanYi Zen Hei",
                "WenQuanYi Micro Hei", "Droid Sans Fallback", "Noto Sans CJK JP", "Noto Sans CJK TC")
TAG_METRICS = ("hit@1", "decision", "facts")
WIDTH = 10.4  # inches: the page's width at 72 points an inch
COLOURS = {"hit@1": "#2b6cb0", "decision": "#2f855a", "facts": "#c05621", "retrieval": "#2b6cb0",
           "answer": "#c05621"}

_WORDS = {
    "zh": {"hit@1": "首位命中率", "decision": "处理方式正确率", "facts": "要点覆盖率", "share": "比例",
           "retrieval": "检索", "answer": "完整回答", "ms": "耗时（毫秒，对数刻度）", "cases": "用例数",
           "text": "网页文字（字符）", "speech": "语音播报（字符）", "answers": "回答数"},
    "en": {"hit@1": "hit@1", "decision": "decision", "facts": "facts", "share": "share",
           "retrieval": "retrieval", "answer": "full answer", "ms": "milliseconds (log scale)", "cases": "cases",
           "text": "web text (characters)", "speech": "speech (characters)", "answers": "answers"},
}


def cjk_font(families: Sequence[str] = CJK_FAMILIES) -> str | None:
    """The first of ``families`` matplotlib finds on this machine, or None."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((family for family in families if family in installed), None)


@contextmanager
def _style(font: str | None) -> Iterator[dict[str, str]]:
    """Fonts and SVG settings for one drawing; yields the words to label it with."""
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    with matplotlib.rc_context({"font.family": families, "font.size": 10, "svg.fonttype": "path",
                                "svg.hashsalt": "banshi", "axes.unicode_minus": False,
                                "axes.spines.top": False, "axes.spines.right": False}), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph .* missing from font")
        yield _WORDS["zh" if font else "en"]


def _legend_above(axes: Axes, columns: int) -> None:
    """The legend in a row above the plot, where it covers no bar."""
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncols=columns, frameon=False, fontsize=9, borderaxespad=0)


def _svg(figure: Figure, name: str) -> str:
    """The figure as an ``<svg>`` element; ids carry ``name`` so that charts in one page never share one."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{name}-\1"', svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{name}-\1"', svg)
    return re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", svg)


def tag_chart(report: dict[str, Any], font: str | None) -> str | None:
    """Grouped bars: hit@1, decision and facts for every tag that has one of them; None when no tag has."""
    rows = [(tag, m) for tag, m in report["metrics"].items() if any(k in m for k in TAG_METRICS)]
    if not rows:
        return None
    with _style(font) as words:
        # a third of an inch a tag: a page too narrow for many tags shrinks the chart to fit
        figure = Figure(figsize=(max(5.0, 0.34 * len(rows) + 1.5), 4.6), layout="constrained")
        axes = figure.add_subplot()
        width = 0.27
        for offset, metric in enumerate(TAG_METRICS):
            placed = [(i, m[metric]) for i, (_, m) in enumerate(rows) if metric in m]
            axes.bar([i + (offset - 1) * width for i, _ in placed], [v for _, v in placed], width,
                     label=words[metric], color=COLOURS[metric])
        axes.set_xticks(range(len(rows)), [f"{tag} ({m['cases']})" for tag, m in rows], rotation=50,
                        ha="right", rotation_mode="anchor", fontsize=8.5)
        axes.set_xlim(-0.6, len(rows) - 0.4)
        axes.set_ylim(0, 1.05)
        axes.set_ylabel(words["share"])
        axes.grid(axis="y", color="#dddddd", linewidth=0.6)
        axes.set_axisbelow(True)
        _legend_above(axes, 3)
        return _svg(figure, "tags")


def latency_chart(report: dict[str, Any], font: str | None) -> str | None:
    """Histogram of each case's retrieval and full-answer time, on log-spaced bins, with the p95 marked;
    None for a run without cases."""
    series = {"retrieval": [c["retrieval_ms"] for c in report["cases"]],
              "answer": [c["answer_ms"] for c in report["cases"] if "answer_ms" in c]}
    series = {name: values for name, values in series.items() if values}
    values = [v for vs in series.values() for v in vs]
    if not values:
        return None
    low = max(min(values), 0.1)
    high = max(max(values), low * 2)
    edges = [low * (high / low) ** (i / 30) for i in range(31)]
    with _style(font) as words:
        figure = Figure(figsize=(WIDTH, 3.4), layout="constrained")
        axes = figure.add_subplot()
        for name, times in series.items():
            axes.hist(times, bins=edges, histtype="stepfilled", alpha=0.45, color=COLOURS[name],
                      edgecolor=COLOURS[name], label=words[name])
        for name, key in (("retrieval", "latency_ms"), ("answer", "answer_latency_ms")):
            if name in series:
                p95 = report[key]["p95"]
                axes.axvline(p95, color=COLOURS[name], linestyle="--", linewidth=1.2,
                             label=f"{words[name]} p95 {p95} ms")
        axes.set_xscale("log")
        axes.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.set_xlabel(words["ms"])
        axes.set_ylabel(words["cases"])
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        _legend_above(axes, 4)
        return _svg(figure, "latency")


def length_chart(report: dict[str, Any], font: str | None) -> str | None:
    """Histograms of the characters of the answers given (text and speech), p50 and p90 marked; None when
    the run gave no answer (``--retrieval-only``, or nothing answered)."""
    given = [c for c in report["cases"] if c.get("decision") == "answer"]
    if not given:
        return None
    with _style(font) as words:
        figure = Figure(figsize=(WIDTH, 3.2), layout="constrained")
        for position, part in enumerate(("text", "speech"), start=1):
            axes: Axes = figure.add_subplot(1, 2, position)
            axes.hist([c[f"{part}_chars"] for c in given], bins=24, color="#4a5568", alpha=0.8)
            spread = report["lengths"]["all"][part]
            for quantile, style in (("p50", "-"), ("p90", "--")):
                axes.axvline(spread[quantile], color="#c53030", linestyle=style, linewidth=1.2,
                             label=f"{quantile} {spread[quantile]}")
            axes.set_xlabel(words[part])
            axes.set_ylabel(words["answers"])
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
            _legend_above(axes, 2)
        return _svg(figure, "lengths")
