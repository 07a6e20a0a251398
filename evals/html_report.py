"""An eval report as one HTML page that opens offline: for the person who decides whether a knowledge
update may go live. Styles and charts (SVG) are inline; nothing is fetched. Everything that comes from
the cases or the answers is escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from evals.charts import cjk_font, latency_chart, length_chart, tag_chart
from evals.headline import HEADLINES, Headline
from evals.report import COLUMNS, failed_cases

DECISIONS = {"answer": "回答", "clarify": "追问", "refuse": "拒答", "handoff": "转人工", "chat": "寒暄"}
CHECKS = {"hit@1": "首位指南不符", "refused": "检索未判为超范围", "decision": "处理方式不符", "facts": "缺少要点",
          "citation": "引用不符", "unsupported": "无依据陈述"}

STYLE = """
body { margin: 0; background: #f7f7f5; color: #1a202c;
  font: 15px/1.6 "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #e2e8f0; }
h3 { font-size: 16px; margin: 18px 0 6px; }
.meta, .note { color: #4a5568; font-size: 13px; }
.verdict { padding: 12px 16px; border-radius: 6px; border-left: 6px solid; margin: 16px 0; }
.verdict.pass { background: #f0fff4; border-color: #2f855a; }
.verdict.fail { background: #fff5f5; border-color: #c53030; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 14px; }
th, td { border: 1px solid #e2e8f0; padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #edf2f7; font-weight: 600; }
table.failures { table-layout: fixed; }
table.failures td { overflow-wrap: anywhere; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.mark { font-weight: 600; white-space: nowrap; }
.ok { color: #276749; }
.bad { color: #c53030; }
.none { color: #718096; }
.id { font-family: monospace; font-size: 13px; }
.checks span { display: inline-block; background: #fed7d7; color: #822727; border-radius: 3px;
  padding: 0 5px; margin: 0 3px 3px 0; font-size: 13px; white-space: nowrap; }
.lead { color: #4a5568; }
figure { margin: 16px 0; background: #fff; border: 1px solid #e2e8f0; padding: 8px; }
figcaption { font-weight: 600; margin-bottom: 6px; }
figure svg { display: block; max-width: 100%; height: auto; }
details { margin: 12px 0; }
summary { cursor: pointer; font-weight: 600; }
pre { background: #fff; border: 1px solid #e2e8f0; padding: 8px; overflow-x: auto; font-size: 13px; }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _when(stamp: str) -> str:
    """"2026-12-06T14:03:12+08:00" as "2026-12-06 14:03"."""
    return str(stamp)[:16].replace("T", " ")


def _mark(met: bool | None) -> str:
    if met is None:
        return '<span class="mark none">未设目标</span>'
    return '<span class="mark ok">✓ 达标</span>' if met else '<span class="mark bad">✗ 未达标</span>'


def _change(headline: Headline, previous: float | None, current: float | None) -> str:
    if previous is None or current is None:
        return '<td class="num none">–</td>'
    delta = current - previous
    if round(delta, headline.digits) == 0:
        return '<td class="num none">持平</td>'
    better = (delta > 0) == headline.higher_is_better
    sign = "+" if delta > 0 else "−"
    shown = f"{sign}{abs(delta):.{headline.digits}f}" + (f" {headline.unit}" if headline.unit else "")
    return f'<td class="num {"ok" if better else "bad"}">{shown}</td>'


def _verdict(report: dict[str, Any]) -> str:
    judged = [(h, h.met(h.value(report))) for h in HEADLINES if h.target is not None]
    missed = [h.label for h, met in judged if met is False]
    unmeasured = [h.label for h, met in judged if met is None]
    failed, total = len(failed_cases(report)), len(report["cases"])
    if missed:
        head = f"有 {len(missed)} 项指标未达到目标：{'、'.join(missed)}。请核对后再决定是否上线。"
    else:
        head = f"已测的 {len(judged) - len(unmeasured)} 项目标全部达到。"
    lines = [f"<strong>{_e(head)}</strong>"]
    if unmeasured:
        lines.append(f"本次未测：{_e('、'.join(unmeasured))}。")
    lines.append(f"{total} 个用例中有 {failed} 个未通过，详见下文。")
    comparison = report.get("comparison")
    if comparison:
        lines.append(f"与上次相比：变好 {len(comparison['better'])} 个，变差 {len(comparison['worse'])} 个。")
    return f'<section class="verdict {"fail" if missed else "pass"}">{"<br>".join(lines)}</section>'


def _headline_table(report: dict[str, Any]) -> str:
    comparison = report.get("comparison")
    heads = ["指标", "本次", "目标", "结果"] + (["上次", "变化"] if comparison else [])
    rows = []
    for headline in HEADLINES:
        value = headline.value(report)
        cells = [f"<td>{_e(headline.label)}</td>", f'<td class="num">{_e(headline.show(value))}</td>',
                 f'<td class="num">{_e(headline.show_target()) or "–"}</td>',
                 f"<td>{_mark(headline.met(value)) if value is not None or headline.target is None else '未测'}</td>"]
        if comparison:
            previous = comparison["metrics"].get(headline.key, {}).get("previous")
            cells += [f'<td class="num">{_e(headline.show(previous))}</td>', _change(headline, previous, value)]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (f"<table><thead><tr>{''.join(f'<th>{h}</th>' for h in heads)}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            '<p class="note">目标取自项目说明（README）；未设目标的指标只列数值。期望转人工的用例不计入命中率。'
            "比例为 0 至 1，耗时为评测程序内的测量值。</p>")


def _checks(names: list[str]) -> str:
    return '<span class="checks">' + "".join(f"<span>{_e(CHECKS.get(n, n))}</span>" for n in names) + "</span>"


def _lines(pairs: list[tuple[str, str]]) -> str:
    """Label-value lines; values are escaped here, labels are ours."""
    return "<br>".join(f"{label}：{_e(value)}" for label, value in pairs if value)


def _failure_row(case: dict[str, Any]) -> str:
    expected = _lines([("处理", DECISIONS.get(case["expect"], case["expect"])),
                       ("指南", "、".join(case["expected_ids"])), ("要点", "；".join(case["expected_facts"]))])
    got_pairs = [("检索首位", case["retrieved"][0] if case["retrieved"] else "无")]
    if "decision" in case:
        got_pairs += [("处理", DECISIONS.get(case["decision"], case["decision"])),
                      ("引用", "、".join(case["cited"]) or "无"), ("缺少要点", "；".join(case["missing_facts"])),
                      ("无依据", "；".join(case["unsupported"]))]
    got = _lines(got_pairs)
    if case.get("led_with"):
        opening = " ".join(case["led_with"].replace("**", "").split())  # the markdown's bold marks are noise here
        got += f'<br>回答开头：<span class="lead">{_e(opening)}…</span>'
    return (f'<tr><td class="id">{_e(case["id"])}</td><td>{_e(case["question"])}</td>'
            f"<td>{_checks(case['failed'])}</td><td>{expected}</td><td>{got}</td></tr>")


def _failures(report: dict[str, Any]) -> str:
    failed = failed_cases(report)
    head = f"<h2>未通过的用例（{len(failed)} / {len(report['cases'])}）</h2>"
    if not failed:
        return head + "<p>全部用例均已通过。</p>"
    return (head + '<table class="failures"><colgroup><col style="width:9%"><col style="width:23%">'
            '<col style="width:13%"><col style="width:21%"><col style="width:34%"></colgroup>'
            "<thead><tr><th>编号</th><th>问题</th><th>未通过项</th><th>期望</th><th>实际</th></tr></thead>"
            f"<tbody>{''.join(_failure_row(c) for c in failed)}</tbody></table>")


def _case_list(cases: list[dict[str, Any]], checks_key: str, checks_head: str) -> str:
    rows = "".join(f'<tr><td class="id">{_e(c["id"])}</td><td>{_e(c["question"])}</td>'
                   f"<td>{_checks(c[checks_key])}</td></tr>" for c in cases)
    return (f"<table><thead><tr><th>编号</th><th>问题</th><th>{checks_head}</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def _comparison(report: dict[str, Any]) -> str:
    comparison = report.get("comparison")
    if not comparison:
        return ""
    failed = comparison["failed"]
    parts = ["<h2>与上次对比</h2>",
             f'<p>上次报告：<span class="id">{_e(comparison["previous"])}</span>'
             + (f"（{_e(_when(comparison['previous_finished']))}）" if comparison.get("previous_finished") else "")
             + f"。未通过的用例：上次 {_e(failed['previous'])} 个，本次 {_e(failed['current'])} 个；"
             f"变好 {len(comparison['better'])} 个，变差 {len(comparison['worse'])} 个，"
             f"两次都未通过 {comparison['still_failing']} 个。</p>"]
    if not comparison["cases_listed"]:
        parts.append('<p class="note">上次报告是旧版格式，没有逐条用例记录：逐条比较依据其失败清单，'
                     "未列出的用例按上次通过计算。</p>")
    if not comparison["answers_compared"]:
        parts.append('<p class="note">两次运行中有一次没有生成回答，逐条比较只看检索。</p>')
    parts.append(f"<h3>变差的用例（上次通过，本次未通过）：{len(comparison['worse'])} 个</h3>")
    parts.append(_case_list(comparison["worse"], "failed_now", "本次未通过项")
                 if comparison["worse"] else "<p>无。</p>")
    parts.append(f"<h3>变好的用例（上次未通过，本次通过）：{len(comparison['better'])} 个</h3>")
    parts.append(_case_list(comparison["better"], "failed_before", "上次未通过项")
                 if comparison["better"] else "<p>无。</p>")
    only_previous, only_current = comparison["only_previous"], comparison["only_current"]
    if only_previous or only_current:
        parts.append("<h3>只在一次运行中出现的用例</h3><p>"
                     f"仅上次（{len(only_previous)} 个）：{_e('、'.join(only_previous)) or '无'}<br>"
                     f"仅本次（{len(only_current)} 个）：{_e('、'.join(only_current)) or '无'}</p>")
    return "".join(parts)


def _charts(report: dict[str, Any]) -> str:
    font = cjk_font()
    figures = [("各标签的首位命中率、处理方式正确率和要点覆盖率（括号内为用例数）", tag_chart(report, font)),
               ("每个用例的耗时分布（虚线为 p95）", latency_chart(report, font)),
               ("回答长度分布（仅统计给出回答的用例）", length_chart(report, font))]
    return "<h2>图表</h2>" + "".join(f"<figure><figcaption>{caption}</figcaption>{svg}</figure>"
                                     for caption, svg in figures if svg is not None)


def _details(report: dict[str, Any]) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in ["tag", *COLUMNS])
    rows = "".join(
        f"<tr><td>{_e(tag)}</td>" + "".join(
            f'<td class="num">{_e(m.get(c, "")) if c == "cases" else (f"{m[c]:.3f}" if c in m else "–")}</td>'
            for c in COLUMNS) + "</tr>"
        for tag, m in report["metrics"].items())
    config = "\n".join(f"{key}: {value}" for key, value in report["config"].items())
    return (f"<details><summary>全部指标（按标签）</summary><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table></details>"
            f"<details><summary>运行配置</summary><pre>{_e(config)}</pre></details>")


def render_html(report: dict[str, Any]) -> str:
    """The whole page, from a report with its ``cases`` (and a ``comparison`` when one was asked for)."""
    files = "、".join(report.get("cases_files", []))
    meta = f"用例文件：{_e(files)}；用例 {len(report['cases'])} 个"
    if report.get("finished_at"):
        meta += f"；生成时间：{_e(_when(report['finished_at']))}"
    body = "".join([
        "<h1>评测报告</h1>", f'<p class="meta">{meta}</p>', _verdict(report),
        "<h2>主要指标</h2>", _headline_table(report), _comparison(report), _charts(report), _failures(report),
        "<h2>明细</h2>", _details(report)])
    return ('<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>办事 · 评测报告</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>\n")
