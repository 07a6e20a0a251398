"""The pure parts of ``make bench-scale``: sizes, growth, the table and the targets (the run itself is timed, and
too long for the suite; it is checked by hand at small sizes)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from evals.bench_report import Target, check_targets, format_table, growth, report_lines
from evals.bench_scale import load_questions, parse_sizes
from evals.measure import cpu_seconds, machine_busy_seconds, read_memory


def test_sizes_are_whole_ascending_and_distinct() -> None:
    assert parse_sizes("2302, 10_000,20000") == [2302, 10_000, 20_000]
    with pytest.raises(ValueError, match="Currently, one size is '10k'"):
        parse_sizes("2302,10k")
    with pytest.raises(ValueError, match="distinct and ascending"):
        parse_sizes("20000,10000")
    with pytest.raises(ValueError, match="Currently, one size is '0'"):
        parse_sizes("0,10")


def test_growth_is_against_the_first_size() -> None:
    assert growth([10.0, 40.0, 85.0]) == [4.0, 8.5]
    assert growth([0.0, 3.0]) == [None]
    assert growth([None, 3.0, None]) == [None, None]
    assert growth([]) == []


def test_the_table_aligns_chinese_as_two_columns() -> None:
    assert format_table(["guides", "300"], [["广州", "1.5"], ["chunks", "2,392"]]) == [
        "guides    300",
        "广州      1.5",
        "chunks  2,392",
    ]


def _size(guides: int, retrieval_p95: float, cumulative: float, one: float, one_thread: float, two: float,
          hwm: float) -> dict[str, Any]:
    serve = {"1x2": {"processes": 1, "answers_per_s": one, "hwm_mib": hwm, "errors": 0, "first_errors": []},
             "1x1": {"processes": 1, "answers_per_s": one_thread, "hwm_mib": hwm - 10, "errors": 0, "first_errors": []},
             "2x1": {"processes": 2, "answers_per_s": two, "hwm_mib": hwm - 20, "errors": 0, "first_errors": []}}
    return {"guides": guides, "cumulative_ingest_s": cumulative, "serve": serve,
            "ingest": {"chunks": guides * 6, "seconds": cumulative, "rejected": 0},
            "latency": {"retrieval_p95_ms": retrieval_p95, "retrieval_region_p95_ms": None}}


RESULT: dict[str, Any] = {
    "sizes": [_size(2302, 20.0, 60.0, 10.0, 12.0, 19.0, 560.0), _size(20_000, 120.0, 1500.0, 8.0, 10.0, 17.0, 930.0)],
    "fresh": None, "resume": {"guides": 2302, "embedded_before_interrupt": 7360, "to_embed": 14721,
                              "rerun_embedded": 14721, "rerun_seconds": 42.0, "continues": False},
    "settings": {"questions": 200, "clients": 8, "seconds": 25.0, "database": "sqlite", "cores": 2},
    "load_average_before": [0.5], "load_average_after": [1.5], "seconds": 1800.0,
}


def test_targets_are_judged_at_the_largest_size_against_the_faster_single_process() -> None:
    assert check_targets(RESULT) == [
        Target("retrieval p95", 120.0, 100, "ms", note="at 20,000 guides"),
        Target("ingest", 25.0, 20, "min", note="cumulative, growing, at 20,000 guides"),
        Target("RSS per serving process", 930.0, 900, "MiB", note="VmHWM, every size and setting"),
        Target("2 processes / 1", 1.7, 1.6, "×", at_least=True,
               note="answers/s against the faster thread setting of one process, at 20,000 guides"),
    ]
    assert [t.met for t in check_targets(RESULT)] == [False, False, False, True]
    fresh = {**RESULT, "fresh": {"seconds": 600.0}}
    assert check_targets(fresh)[1] == Target("ingest", 10.0, 20, "min", note="from scratch, at 20,000 guides")


def test_repeated_pairs_of_one_and_two_processes_give_their_median() -> None:
    """With --repeat, the target is the median ratio of the pairs, not one pair's, whichever way the machine drifted."""
    last = {**RESULT["sizes"][-1], "repeats": [[10.0, 12.0], [10.0, 19.0]]}  # after the first pair: 10.0, 17.0
    repeated = {**RESULT, "sizes": [RESULT["sizes"][0], last]}
    assert check_targets(repeated)[-1] == Target(
        "2 processes / 1", 1.7, 1.6, "×", at_least=True,
        note="median of 3 pairs of 1 and 2 processes (1.7, 1.2, 1.9), at 20,000 guides")
    failed = {**RESULT, "sizes": [RESULT["sizes"][0], {**last, "repeats": [[10.0, 12.0], [0.0, 0.0], [10.0, 19.0]]}]}
    assert check_targets(failed)[-1] == check_targets(repeated)[-1]  # a pair that answered nothing is left out
    once = {**RESULT, "sizes": [RESULT["sizes"][0], {**last, "repeats": []}]}
    assert check_targets(once)[-1].value == 1.7  # one pair: as before, against the faster single process


def test_the_report_shows_growth_resume_and_targets() -> None:
    result = {**RESULT, "targets": [{"name": t.name, "value": t.value, "limit": t.limit, "unit": t.unit,
                                     "met": t.met, "note": t.note} for t in check_targets(RESULT)]}
    lines = report_lines(result)
    assert lines[0].split() == ["guides", "2,302", "20,000", "20,000/2,302"]
    assert "retrieval p95 (ms)" in lines[9] and lines[9].split()[-3:] == ["20", "120", "×6.00"]
    assert any(line.startswith("2 processes / 1 process, 2 threads") and line.split()[-2:] == ["1.90", "2.12"]
               for line in lines)
    assert "the re-run embedded 14,721 in 42.0 s: it starts over" in "\n".join(lines)
    assert "  retrieval p95: 120.00 ms (≤ 100): MISSED [at 20,000 guides]" in lines


def test_memory_of_a_live_process_and_the_question_set() -> None:
    memory = read_memory(os.getpid())
    assert 0 < memory["rss_mib"] <= memory["hwm_mib"]
    answers = Path(__file__).resolve().parents[1] / "evals" / "cases" / "gd" / "gd-answers.jsonl"
    questions = load_questions(3, [answers, Path("/nonexistent.jsonl")])
    assert questions == [("南粤扶残助学的助学金，哪些人可以申请？", None),
                         ("想去当保安，第一次申领保安员证要满足什么条件？", "广东省广州市"),
                         questions[2]]
    assert len(load_questions(1000, [answers])) == 136


def test_cpu_time_is_read_for_a_process_and_for_the_machine() -> None:
    mine, machine = cpu_seconds(os.getpid()), machine_busy_seconds()
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # keep one core busy for 0.3 s
        pass
    used = cpu_seconds(os.getpid()) - mine
    assert 0.2 <= used < 5 and machine_busy_seconds() - machine >= used - 0.05
