"""The headline metrics of an eval report, and the targets the project has set for some of them.

The targets are the README's: the answer metrics' table (decision and facts at least 0.90, citation at
least 0.95, no unsupported statement), the retrieval target (hit@1 at least 0.80, hit@5 at least
0.93) and at most 2% of answers given as the citizen's own from a guide that does not fit
(false-confident). A metric without a target there has none here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Headline:
    key: str  # stable name, as a comparison of two reports matches them
    name: str  # as the terminal and markdown reports say it
    label: str  # as the HTML page says it
    path: tuple[str, ...]  # where the value sits in a report
    target: float | None = None
    higher_is_better: bool = True
    digits: int = 3  # as the text table prints it
    unit: str = ""

    def value(self, report: dict[str, Any]) -> float | None:
        """The metric's value in ``report``, or None when that run did not measure it."""
        found: Any = report
        for step in self.path:
            if not isinstance(found, dict) or step not in found:
                return None
            found = found[step]
        return float(found) if isinstance(found, int | float) else None

    def met(self, value: float | None) -> bool | None:
        """Whether ``value`` meets the target; None without a target or a value."""
        if self.target is None or value is None:
            return None
        return value >= self.target if self.higher_is_better else value <= self.target

    def show(self, value: float | None) -> str:
        """The value as the text report prints it ("0.927", "0", "59.3 ms"), "–" when not measured."""
        if value is None:
            return "–"
        return f"{value:.{self.digits}f}" + (f" {self.unit}" if self.unit else "")

    def show_target(self) -> str:
        if self.target is None:
            return ""
        if self.digits == 0:
            return f"{'≥' if self.higher_is_better else '≤'} {self.target:.0f}" if self.target else "0"
        return f"{'≥' if self.higher_is_better else '≤'} {self.target:.2f}"


HEADLINES: tuple[Headline, ...] = (
    Headline("hit@1", "hit@1 (expect-answer)", "首位命中率（应答类问题）", ("metrics", "expect-answer", "hit@1"),
             target=0.80),
    Headline("hit@5", "hit@5 (expect-answer)", "前五命中率（应答类问题）", ("metrics", "expect-answer", "hit@5"),
             target=0.93),
    Headline("refused", "refused (out of scope)", "超出范围问题的拒答率", ("metrics", "all", "refused")),
    Headline("decision", "decision", "处理方式正确率", ("metrics", "all", "decision"), target=0.90),
    Headline("facts", "facts", "要点覆盖率", ("metrics", "all", "facts"), target=0.90),
    Headline("citation", "citation", "引用正确率", ("metrics", "all", "citation"), target=0.95),
    Headline("unsupported", "unsupported statements", "无依据陈述（条）", ("unsupported_total",), target=0,
             higher_is_better=False, digits=0),
    Headline("false-confident", "false-confident answers", "错答率（以无关指南作答）",
             ("metrics", "all", "false-confident"), target=0.02, higher_is_better=False),
    Headline("answer-first", "answer-first", "开头即答率", ("metrics", "all", "answer-first")),
    Headline("speech-fact", "speech-fact", "语音含要点率", ("metrics", "all", "speech-fact")),
    Headline("retrieval-p95", "retrieval latency p95", "检索耗时 p95", ("latency_ms", "p95"),
             higher_is_better=False, digits=1, unit="ms"),
    Headline("answer-p95", "full answer latency p95", "完整回答耗时 p95", ("answer_latency_ms", "p95"),
             higher_is_better=False, digits=1, unit="ms"),
)
