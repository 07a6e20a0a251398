from __future__ import annotations

import json
from pathlib import Path

from assistant.compose import compose_answer
from ingest.importers import MAPPINGS, detect_mapping, import_export
from tests.conftest import GD_EXPORT, require

RECORD = {
    "id": "X1", "事项名称": "测试事项（子项）", "目录事项名称(主项)": "测试事项", "子项名称": "子项",
    "事项类型": "行政许可", "实施主体": "广东省某厅", "行政区划": "广东省", "行使层级": "省级",
    "服务对象": ["自然人"], "主题分类": ["其他"], "业务办理项编码": "B1", "到办事现场次数": "1",
    "联办机构": "省级司法（受理,审核）、市级司法（受理）", "办理地点": "广州市某路1号",
    "受理条件(首段)": "符合条件的。",
    "咨询电话": "020-1", "投诉电话": "", "是否支持物流快递": "是", "是否网办": "否", "在线预约地址": "",
    "业务系统": "某系统", "详情页URL": "https://example.org/x1", "法定办结时限": "20 (工作日)",
    "承诺办结时限": "", "办理时间": "周一至周五", "申请材料": ["申请表", " "],
    "_source": {"repo": "r", "licence": "MIT"},
}


def _write(tmp_path: Path, *records: object) -> Path:
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def test_maps_one_record_field_by_field(tmp_path: Path) -> None:
    path = _write(tmp_path, RECORD)
    assert detect_mapping(path, MAPPINGS.values()) is MAPPINGS["gd2021"]
    loaded = import_export(path, MAPPINGS["gd2021"])
    assert loaded.rejects == []
    assert loaded.guides[0].model_dump(exclude_defaults=True, mode="json") == {
        "id": "X1",
        "name": "测试事项（子项）",
        "parent_name": "测试事项",
        "kind": "行政许可",
        "department": "广东省某厅",
        "co_departments": ["省级司法（受理,审核）", "市级司法（受理）"],
        "region": "广东省",
        "level": "省级",
        "audience": ["自然人"],
        "topics": ["其他"],
        "visits": 1,
        "locations": [{"address": "广州市某路1号", "hours": "周一至周五", "region": "广东省"}],
        "eligibility": "符合条件的。",
        "consult_phone": "020-1",
        "delivery": ["邮寄"],
        "channels": ["窗口办理"],
        "time_limit_legal": "20(工作日)",
        "materials": [{"name": "申请表"}],
        "source": {"title": "广东政务服务网·测试事项（子项）（2021年采集）", "url": "https://example.org/x1"},
        "extra": {"业务办理项编码": "B1", "子项名称": "子项", "业务系统": "某系统",
                  "受理条件说明": "导出数据仅收录受理条件首段，可能不完整",
                  "数据来源": "repo=r; licence=MIT", "采集年份": "2021"},
    }


def test_online_only_item_has_no_counter(tmp_path: Path) -> None:
    loaded = import_export(_write(tmp_path, {**RECORD, "办理地点": "无线下办理窗口", "是否网办": "是"}),
                           MAPPINGS["gd2021"])
    guide = loaded.guides[0]
    assert guide.locations == [] and guide.channels == ["网上办理"]
    assert guide.extra["办理地点说明"] == "无线下办理窗口，仅网上办理"


def test_a_result_not_sent_by_post_is_kept_and_said(tmp_path: Path) -> None:
    """是否支持物流快递 "不支持" (or "否") is a fact a citizen asks ("能寄快递吗"): kept, said in the result."""
    for said in ("不支持", "否"):
        loaded = import_export(_write(tmp_path, {**RECORD, "是否支持物流快递": said}), MAPPINGS["gd2021"])
        guide = loaded.guides[0]
        assert guide.delivery == [] and guide.extra["是否支持物流快递"] == "否"
        answer = compose_answer(guide, ["result"], question="办好了能寄快递给我吗")
        assert answer.text.startswith("**测试事项（子项）**：结果送达：不支持物流快递。\n")  # not "…未载明办理结果"
    unsaid = import_export(_write(tmp_path, {**RECORD, "是否支持物流快递": ""}), MAPPINGS["gd2021"]).guides[0]
    assert "是否支持物流快递" not in unsaid.extra
    assert "指南未载明结果送达方式" in compose_answer(unsaid, ["result"], question="能寄快递吗").text


def test_doubled_brackets_of_a_name_are_made_single(tmp_path: Path) -> None:
    raw = {**RECORD, "事项名称": "注册会计师注册(（外国人）)", "目录事项名称(主项)": "注册会计师注册",
           "子项名称": "(（外国人）)"}
    guide = import_export(_write(tmp_path, raw), MAPPINGS["gd2021"]).guides[0]
    assert guide.name == "注册会计师注册（外国人）" and guide.extra["子项名称"] == "（外国人）"
    assert guide.source.title == "广东政务服务网·注册会计师注册（外国人）（2021年采集）"


def test_bad_records_are_reported_with_reason(tmp_path: Path) -> None:
    path = _write(tmp_path, {**RECORD, "id": "V", "到办事现场次数": "多次"}, {**RECORD, "id": "K", "新字段": "x"},
                  {**RECORD, "id": "N", "事项名称": ""}, RECORD)
    loaded = import_export(path, MAPPINGS["gd2021"])
    assert [g.id for g in loaded.guides] == ["X1"]
    assert [(r.record, r.reason) for r in loaded.rejects] == [
        ("#1 (id V)", "到办事现场次数: expected a whole number, got '多次'"),
        ("#2 (id K)", "unknown export field(s): 新字段"),
        ("#3 (id N)", "事项名称: missing"),
    ]


def test_the_whole_real_export_maps_without_loss() -> None:
    loaded = import_export(require(GD_EXPORT), MAPPINGS["gd2021"])
    assert loaded.raw_count == 2302
    assert len(loaded.guides) + len(loaded.rejects) == 2302
    assert len(loaded.guides) == 2302, [str(r) for r in loaded.rejects[:5]]
    assert all(g.extra.get("数据来源", "").startswith("repo=Clarence-Kong/QABasedOnPolicyKnowledgeGraph")
               for g in loaded.guides)
