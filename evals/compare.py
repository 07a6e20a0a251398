"""Compare an eval report with one written earlier: the headline metrics then and now, and case by case
which cases got better (failed before, pass now) and which got worse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evals.headline import HEADLINES
from evals.runner import RETRIEVAL_CHECKS
from knowledge.errors import UsageError

RETRIEVAL_FAILURE = {"refuse": "refused"}  # an older report's retrieval failure: its check by what was expected


def load_report(path: Path) -> dict[str, Any]:
    """A JSON report of ``banshi eval --report FILE.json`` or ``--json``. Raises UsageError when the file
    is missing, unreadable or not such a report."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise UsageError(f"{path}: no such file (expected a JSON report of banshi eval)") from err
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UsageError(f"{path}: not a JSON eval report ({' '.join(str(err).split())})") from err
    if not (isinstance(report, dict) and isinstance(report.get("metrics"), dict)
            and isinstance(report["metrics"].get("all"), dict) and isinstance(report.get("failures"), list)):
        raise UsageError(f"{path}: not an eval report (no metrics and failures; write one with "
                         "banshi eval --report FILE.json)")
    return report


def _failed_before(previous: dict[str, Any], current_cases: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Case id → the checks it failed in ``previous``. An older report lists only its failures, and
    counted a rank-1 miss for cases that expect a handoff: those are not failures now."""
    if "cases" in previous:
        return {case["id"]: list(case["failed"]) for case in previous["cases"]}
    failed: dict[str, list[str]] = {case_id: [] for case_id in current_cases}
    for failure in previous["failures"]:
        current = current_cases.get(failure["id"])
        if current is not None and current["expect"] == "handoff":
            continue
        failed.setdefault(failure["id"], []).append(RETRIEVAL_FAILURE.get(str(failure["expected"]), "hit@1"))
    for failure in previous.get("answer_failures", []):
        checks = [name for name, failed_it in (("decision", failure["decision"] != failure["expect"]),
                                               ("facts", bool(failure["missing_facts"])),
                                               ("unsupported", bool(failure["unsupported"]))) if failed_it]
        failed.setdefault(failure["id"], []).extend(checks or ["citation"])  # the one check it does not name
    return failed


def compare_reports(previous: dict[str, Any], current: dict[str, Any], source: str) -> dict[str, Any]:
    """The comparison a report carries as ``comparison``: per headline metric the previous and current
    value; the cases that got better and worse; the cases of only one run (ids)."""
    now = {case["id"]: {**case, "failed": list(case["failed"])} for case in current["cases"]}
    before = _failed_before(previous, now)
    answers_compared = "answer_latency_ms" in previous and "answer_latency_ms" in current
    if not answers_compared:  # one run skipped the answers (--retrieval-only): compare what both measured
        before = {i: [c for c in checks if c in RETRIEVAL_CHECKS] for i, checks in before.items()}
        for case in now.values():
            case["failed"] = [c for c in case["failed"] if c in RETRIEVAL_CHECKS]
    common = [case_id for case_id in now if case_id in before]
    better = [{"id": i, "question": now[i]["question"], "failed_before": before[i]}
              for i in common if before[i] and not now[i]["failed"]]
    worse = [{"id": i, "question": now[i]["question"], "failed_now": now[i]["failed"]}
             for i in common if not before[i] and now[i]["failed"]]
    return {
        "previous": source,
        "previous_finished": previous.get("finished_at"),
        "cases_listed": "cases" in previous,
        "answers_compared": answers_compared,
        "metrics": {h.key: {"previous": h.value(previous), "current": h.value(current)} for h in HEADLINES},
        "failed": {"previous": sum(1 for checks in before.values() if checks),
                   "current": sum(1 for case in now.values() if case["failed"])},
        "better": better,
        "worse": worse,
        "still_failing": sum(1 for i in common if before[i] and now[i]["failed"]),
        "only_previous": [i for i in before if i not in now],
        "only_current": [i for i in now if i not in before],
    }
