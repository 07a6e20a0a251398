"""``banshi eval --report FILE.html`` and ``--compare PREVIOUS.json``, run for real on the fixture pack.

Two runs: the second changes what two cases expect (as a knowledge update would change what the
assistant gives), drops one case and adds one with hostile text. The page must open offline, show its
charts, escape the hostile text, and say which cases got better and which worse.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from cli import main
from evals.charts import cjk_font, latency_chart, length_chart, tag_chart
from evals.compare import compare_reports
from evals.report import render_markdown, render_table
from tests.conftest import FIXTURE_PACK, ROOT, ingested

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
HOSTILE = "<script>alert('x')</script>居住证"
HANDOFF = {"id": "h1", "question": "我要找人工", "history": [{"role": "user", "content": "办居住证要带啥"}],
           "expected_ids": ["t-food-license"], "expect": "handoff"}
BEFORE = [
    {"id": "b1", "question": "居住证", "expected_ids": ["t-food-license"]},  # fails now, passes after
    {"id": "w1", "question": "食品经营许可", "expected_ids": ["t-food-license"]},  # passes now, fails after
    {"id": "same", "question": "办居住证要带啥", "expected_ids": ["t-residence-permit"]},
    {"id": "gone", "question": "帮我写首诗", "expect": "refuse"},
    HANDOFF,
]
AFTER = [
    {"id": "b1", "question": "居住证", "expected_ids": ["t-residence-permit"]},
    {"id": "w1", "question": "食品经营许可", "expected_ids": ["t-residence-permit"]},
    {"id": "same", "question": "办居住证要带啥", "expected_ids": ["t-residence-permit"]},
    {"id": "x<1>", "question": HOSTILE, "expected_ids": ["t-food-license"], "expected_facts": ["<b>要点</b>"],
     "tags": ["<img src=x onerror=alert(1)>", "中文标签"]},
    HANDOFF,
]


def _cases(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The fixture pack ingested; the first run written as JSON, the second as HTML compared with it."""
    folder = tmp_path_factory.mktemp("eval-report")
    data = folder / "data"
    ingested(data, FIXTURE_PACK)
    previous = folder / "previous.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["eval", str(_cases(folder / "before.jsonl", BEFORE)), "--data-dir", str(data),
                     "--report", str(previous)]) == 0
    page = folder / "report.html"
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        assert main(["eval", str(_cases(folder / "after.jsonl", AFTER)), "--data-dir", str(data), "--json",
                     "--report", str(page), "--compare", str(previous)]) == 0
    return {"data": data, "previous": previous, "page": page, "report": json.loads(printed.getvalue()),
            "html": page.read_text(encoding="utf-8")}


def _section(html: str, start: str, end: str) -> str:
    return html[html.index(start):html.index(end, html.index(start))]


def test_html_report_is_one_page_that_loads_nothing(runs: dict[str, Any]) -> None:
    html = runs["html"]
    assert html.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//|@import|<link|<img|<script", html, re.IGNORECASE)
    assert html.count("<svg ") == 3 and html.count("</svg>") == 3
    assert html.count('<svg xmlns:xlink="http://www.w3.org/1999/xlink"') == 3  # a namespace name, not a fetch
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # three charts in one page share no id


def test_html_report_shows_each_headline_metric_against_its_target(runs: dict[str, Any]) -> None:
    html, report = runs["html"], runs["report"]
    rows = ["|".join(cell for cell in re.split(r"<[^>]+>", row) if cell)
            for row in re.findall(r"<tr>(.*?)</tr>", _section(html, "<h2>主要指标</h2>", "</table>"))]
    assert report["metrics"]["expect-answer"]["hit@1"] == 0.5  # w1 and x<1> miss; the handoff case is not counted
    assert rows == [
        "指标|本次|目标|结果|上次|变化",
        "首位命中率（应答类问题）|0.500|≥ 0.80|✗ 未达标|0.667|−0.167",
        "前五命中率（应答类问题）|1.000|≥ 0.93|✓ 达标|1.000|持平",
        "超出范围问题的拒答率|–|–|未设目标|1.000|–",  # the out-of-scope case was dropped
        "处理方式正确率|0.800|≥ 0.90|✗ 未达标|1.000|−0.200",
        "要点覆盖率|0.000|≥ 0.90|✗ 未达标|–|–",  # only x<1> expects a fact
        "引用正确率|0.667|≥ 0.95|✗ 未达标|0.667|持平",
        "无依据陈述（条）|0|0|✓ 达标|0|持平",
        "错答率（以无关指南作答）|0.200|≤ 0.02|✗ 未达标|0.200|持平",  # w1 answered from the wrong guide, both runs
        "开头即答率|–|–|未设目标|–|–",
        "语音含要点率|–|–|未设目标|–|–",
        rows[11], rows[12],  # timings vary from run to run
    ]
    assert re.fullmatch(r"检索耗时 p95\|[\d.]+ ms\|–\|未设目标\|[\d.]+ ms\|(持平|[+−][\d.]+ ms)", rows[11])
    assert rows[12].startswith("完整回答耗时 p95|")
    assert ("有 5 项指标未达到目标：首位命中率（应答类问题）、处理方式正确率、要点覆盖率、引用正确率、"
            "错答率（以无关指南作答）。请核对后再决定是否上线。</strong><br>5 个用例中有 2 个未通过，详见下文。<br>"
            "与上次相比：变好 1 个，变差 1 个。" in html)


def test_html_report_escapes_what_cases_and_answers_bring(runs: dict[str, Any]) -> None:
    html = runs["html"]
    assert "<script" not in html and "<img" not in html and "<b>要点" not in html
    failures = _section(html, "<h2>未通过的用例（", "</table>")
    assert "<h2>未通过的用例（2 / 5）</h2>" in failures
    assert ('<td class="id">x&lt;1&gt;</td><td>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;居住证</td>'
            in failures)
    assert "要点：&lt;b&gt;要点&lt;/b&gt;" in failures and "缺少要点：&lt;b&gt;要点&lt;/b&gt;" in failures
    assert "<td>&lt;img src=x onerror=alert(1)&gt;</td>" in html  # the tag, in the table of all metrics


def test_compare_lists_the_cases_that_got_better_and_worse(runs: dict[str, Any]) -> None:
    comparison = runs["report"]["comparison"]
    assert comparison["previous"] == str(runs["previous"])
    assert [(c["id"], c["failed_before"]) for c in comparison["better"]] == [("b1", ["hit@1", "citation"])]
    assert [(c["id"], c["failed_now"]) for c in comparison["worse"]] == [("w1", ["hit@1", "citation"])]
    assert (comparison["only_previous"], comparison["only_current"]) == (["gone"], ["x<1>"])
    assert comparison["failed"] == {"previous": 1, "current": 2} and comparison["still_failing"] == 0
    assert comparison["metrics"]["hit@1"] == {"previous": 0.6667, "current": 0.5}
    html = runs["html"]
    worse = _section(html, "<h3>变差的用例", "</table>")
    better = _section(html, "<h3>变好的用例", "</table>")
    assert '<td class="id">w1</td><td>食品经营许可</td>' in worse and "b1" not in worse
    assert '<td class="id">b1</td><td>居住证</td>' in better and "w1" not in better
    assert "仅上次（1 个）：gone<br>仅本次（1 个）：x&lt;1&gt;" in html
    lines = render_table(runs["report"]).splitlines()
    assert "better (failed before, pass now): 1 (b1)" in lines and "worse (passed before, fail now): 1 (w1)" in lines
    assert f"only in {runs['previous']}: 1 (gone)" in lines and "only in this run: 1 (x<1>)" in lines
    assert "| hit@1 (expect-answer) | 0.667 | 0.500 |" in lines and "| failed cases | 1 | 2 |" in lines
    assert "## Comparison" in render_markdown(runs["report"])


def test_compare_with_a_report_that_lists_only_its_failures(runs: dict[str, Any]) -> None:
    """Reports written before the per-case list: unlisted cases count as passed, and the rank-1 miss they
    counted for a case that expects a handoff is no failure."""
    older = {"metrics": {"all": {"cases": 5, "hit@1": 0.5}}, "answer_latency_ms": {"p50": 1, "p95": 2, "max": 3},
             "failures": [{"id": "b1", "question": "居住证", "expected": ["t-food-license"], "got": [],
                           "confidence": 1},
                          {"id": "h1", "question": "我要找人工", "expected": ["t-food-license"], "got": [],
                           "confidence": 1},
                          {"id": "gone", "question": "帮我写首诗", "expected": "refuse", "got": [], "confidence": 1}],
             "answer_failures": [{"id": "b1", "question": "居住证", "expect": "answer", "expected": ["t-food-license"],
                                  "facts": [], "decision": "answer", "cited": ["t-residence-permit"],
                                  "missing_facts": [], "unsupported": [], "led_with": ""}]}
    comparison = compare_reports(older, runs["report"], "older.json")
    assert comparison["cases_listed"] is False and comparison["failed"] == {"previous": 2, "current": 2}
    assert [(c["id"], c["failed_before"]) for c in comparison["better"]] == [("b1", ["hit@1", "citation"])]
    assert [c["id"] for c in comparison["worse"]] == ["w1", "x<1>"]
    assert (comparison["only_previous"], comparison["only_current"]) == (["gone"], [])
    assert comparison["metrics"]["hit@1"]["previous"] is None  # no expect-answer row in that report


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such file (expected a JSON report of banshi eval)"),
    ("# banshi evaluation report\n", "not a JSON eval report (Expecting value: line 1 column 1 (char 0))"),
    ('{"metrics": {"all": {}}}', "not an eval report (no metrics and failures; write one with "
                                 "banshi eval --report FILE.json)"),
    ("[1, 2]", "not an eval report (no metrics and failures; write one with banshi eval --report FILE.json)"),
])
def test_compare_refuses_what_is_not_an_eval_report(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    content: str | None, message: str) -> None:
    previous = tmp_path / "previous.json"
    if content is not None:
        previous.write_text(content, encoding="utf-8")
    cases = _cases(tmp_path / "cases.jsonl", BEFORE)
    assert main(["eval", str(cases), "--data-dir", str(tmp_path / "none"), "--compare", str(previous)]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"error: {previous}: {message}\n")


def test_charts_without_a_cjk_font_draw_english_labels_and_warn_nothing(runs: dict[str, Any]) -> None:
    assert cjk_font(["No Such Font"]) is None
    report = runs["report"]
    for chart in (tag_chart(report, None), latency_chart(report, None), length_chart(report, None)):
        assert chart is not None and chart.startswith("<svg ") and chart.rstrip().endswith("</svg>")
    # text is drawn as paths: the words are only in the comments matplotlib writes beside them
    assert "<!-- hit@1 -->" in (tag_chart(report, None) or "")
    found = cjk_font()
    if found is not None:
        assert "<!-- 首位命中率 -->" in (tag_chart(report, found) or "")


@pytest.mark.browser
def test_report_page_in_a_real_browser(runs: dict[str, Any]) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (make test installs it)")
    from playwright.sync_api import expect, sync_playwright

    os.environ.setdefault("PLAYWRIGHT_BROWSERS_PATH", "0")
    requested: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda request: requested.append(request.url))
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(runs["page"].as_uri())
            charts = page.locator("figure svg")
            expect(charts).to_have_count(3)
            for number in range(3):
                expect(charts.nth(number)).to_be_visible()
                box = charts.nth(number).bounding_box()
                assert box is not None and box["width"] > 400 and box["height"] > 150
            expect(page.get_by_text(HOSTILE, exact=True)).to_be_visible()  # shown as text, never run
            expect(page.locator("h1")).to_have_text("评测报告")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "eval-report.png"), full_page=True)
        finally:
            browser.close()
    assert requested == [runs["page"].as_uri()] and dialogs == []
