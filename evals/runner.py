"""Run evaluation cases through the retriever and summarise: overall, per tag, failures, config.

Scorers are small functions ``(case, outcome) -> {metric: value}``; answer metrics plug in as
more scorers over the same outcomes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.hits import Retrieval
from assistant.retriever import HybridSearch
from assistant.service import Assistant
from evals.answers import AnswerOutcome, answer_case
from evals.cases import EvalCase
from evals.metrics import hit_at, mean, percentile, reciprocal_rank

LED_WITH_CHARS = 80  # how much of a failed answer's text the report shows


@dataclass
class Outcome:
    case: EvalCase
    retrieval: Retrieval
    ranked: list[str]
    metrics: dict[str, float] = field(default_factory=dict)
    answer: AnswerOutcome | None = None


Scorer = Callable[[EvalCase, Outcome], dict[str, float]]


def retrieval_scorer(refuse_below: float) -> Scorer:
    """hit@1/hit@5/MRR@10 for cases that expect a guide; below-threshold rate for out-of-scope ones.

    A case that expects a handoff gets no ranking metric: the citizen asks for a person, and the guide
    its case names is only the topic of the earlier turns.
    """

    def score(case: EvalCase, outcome: Outcome) -> dict[str, float]:
        if case.expect == "refuse":
            return {"refused": 1.0 if outcome.retrieval.confidence < refuse_below else 0.0}
        if case.expect == "handoff" or not case.expected_ids:
            return {}
        return {
            "hit@1": hit_at(outcome.ranked, case.expected_ids, 1),
            "hit@5": hit_at(outcome.ranked, case.expected_ids, 5),
            "mrr@10": reciprocal_rank(outcome.ranked, case.expected_ids, 10),
            "confident": 1.0 if outcome.retrieval.confidence >= refuse_below else 0.0,
        }

    return score


CHECKS = ("hit@1", "refused", "decision", "facts", "citation", "unsupported")  # the order failures list them
RETRIEVAL_CHECKS = {"hit@1", "refused"}


def failed_checks(metrics: dict[str, float]) -> list[str]:
    """The checks of ``CHECKS`` a case failed: a wrong guide at rank 1, an out-of-scope question above the
    threshold, a wrong decision, an expected fact missing, a wrong first citation, an unsupported statement.
    Empty when the case passed."""

    def passed(name: str, value: float) -> bool:
        if name == "facts":
            return value >= 1.0
        return value == 0.0 if name == "unsupported" else value != 0.0

    return [name for name in CHECKS if name in metrics and not passed(name, metrics[name])]


def _question_with_history(case: EvalCase) -> str:
    # Retrieval alone has no dialogue state: a follow-up is searched with the citizen's earlier turns.
    earlier = [t.content for t in case.history if t.role == "user"]
    return " ".join([*earlier[-1:], case.question]) if earlier else case.question


def run_cases(cases: Sequence[EvalCase], search: HybridSearch, scorers: Sequence[Scorer],
              progress: Callable[[int, int], None] | None = None,
              assistant: Assistant | None = None) -> list[Outcome]:
    """Retrieval for every case; with ``assistant``, the full answer too (history replayed first)."""
    from assistant.hits import Filters

    outcomes = []
    for number, case in enumerate(cases, start=1):
        retrieval = search.search(_question_with_history(case), k=10, filters=Filters(region=case.region))
        outcome = Outcome(case, retrieval, [h.record_id for h in retrieval.hits])
        for scorer in scorers:
            outcome.metrics.update(scorer(case, outcome))
        if assistant is not None:
            outcome.answer = answer_case(case, assistant)
            outcome.metrics.update(outcome.answer.metrics)
        outcomes.append(outcome)
        if progress:
            progress(number, len(cases))
    return outcomes


def summarise(outcomes: Sequence[Outcome], config: dict[str, Any]) -> dict[str, Any]:
    """Metrics overall and per tag, latency percentiles, and every case (``cases``: expected, got, timings,
    the checks it failed); ``failures`` and ``answer_failures`` list the cases that failed a retrieval
    check and an answer check."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        groups["all"].append(outcome)
        for tag in outcome.case.all_tags:
            groups[tag].append(outcome)
    by_tag = {}
    for tag, members in sorted(groups.items(), key=lambda kv: (kv[0] != "all", kv[0])):
        names = sorted({m for o in members for m in o.metrics})
        by_tag[tag] = {"cases": len(members),
                       **{m: round(mean([o.metrics[m] for o in members if m in o.metrics]), 4) for m in names}}
    latencies = [o.retrieval.seconds * 1000 for o in outcomes]
    cases = [_case_record(o) for o in outcomes]
    failures = [
        {"id": c["id"], "question": c["question"], "expected": c["expected_ids"] or c["expect"],
         "got": c["retrieved"], "confidence": c["confidence"]}
        for c in cases if set(c["failed"]) & RETRIEVAL_CHECKS
    ]
    report: dict[str, Any] = {
        "config": config,
        "metrics": by_tag,
        "latency_ms": _latency(latencies),
        "failures": failures,
    }
    answered = [o for o in outcomes if o.answer is not None]
    if answered:
        report["lengths"] = {tag: _lengths(groups[tag]) for tag in by_tag}
        report["answer_latency_ms"] = _latency([o.answer.seconds * 1000 for o in answered if o.answer])
        report["unsupported_total"] = int(sum(o.metrics.get("unsupported", 0) for o in answered))
        report["answer_failures"] = [
            {"id": c["id"], "question": c["question"], "expect": c["expect"], "expected": c["expected_ids"],
             "facts": c["expected_facts"], "decision": c["decision"], "cited": c["cited"],
             "missing_facts": c["missing_facts"], "unsupported": c["unsupported"], "led_with": c["led_with"]}
            for c in cases if "decision" in c and set(c["failed"]) - RETRIEVAL_CHECKS
        ]
    report["cases"] = cases
    return report


def _case_record(outcome: Outcome) -> dict[str, Any]:
    """One case as the report keeps it: what it expected, what came, its timings and the checks it failed."""
    case, retrieval = outcome.case, outcome.retrieval
    record: dict[str, Any] = {
        "id": case.id, "question": case.question, "expect": case.expect, "tags": case.all_tags,
        "expected_ids": case.expected_ids, "expected_facts": case.expected_facts,
        "metrics": {name: round(value, 4) for name, value in outcome.metrics.items()},
        "failed": failed_checks(outcome.metrics),
        "retrieved": [f"{h.record_id} {h.name}" for h in retrieval.hits[:3]],
        "confidence": round(retrieval.confidence, 3), "retrieval_ms": round(retrieval.seconds * 1000, 1),
    }
    if outcome.answer is not None:
        answer = outcome.answer.answer
        record.update({
            "decision": answer.decision, "cited": [c.guide_id for c in answer.citations][:1],
            "missing_facts": outcome.answer.missing_facts,
            "unsupported": outcome.answer.unsupported, "led_with": answer.text[:LED_WITH_CHARS],
            "answer_ms": round(outcome.answer.seconds * 1000, 1),
            "text_chars": len(answer.text), "shown_chars": len(shown(answer.text)), "speech_chars": len(answer.speech),
        })
    return record


_LINK = re.compile(r"\[([^\]]*)\]\([^)\s]*\)")


def shown(text: str) -> str:
    """An answer's markdown as the chat shows it, for its length: a link as its title, no bold markers."""
    return _LINK.sub(r"\1", text).replace("**", "")


def _lengths(members: Sequence[Outcome]) -> dict[str, Any]:
    """Characters of the answers given (decision ``answer``): p50, p90, max of the text as written (markdown),
    of the text as shown (a link's address and the bold markers are not read) and of the speech."""
    given = [o.answer.answer for o in members if o.answer is not None and o.answer.answer.decision == "answer"]
    return {"answers": len(given), "text": _spread([len(a.text) for a in given]),
            "shown": _spread([len(shown(a.text)) for a in given]),
            "speech": _spread([len(a.speech) for a in given])}


def _spread(values: list[int]) -> dict[str, int]:
    return {"p50": int(percentile(values, 50)), "p90": int(percentile(values, 90)), "max": max(values, default=0)}


def _latency(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 50), 1), "p95": round(percentile(values, 95), 1),
            "max": round(max(values, default=0.0), 1)}
