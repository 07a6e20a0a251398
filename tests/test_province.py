from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evals.province import CITIES, city_copy, main, most_guides, province_guides, read_export, write_province
from ingest.normalise import normalise_record
from ingest.pipeline import load_source
from tests.conftest import GD_EXPORT, ROOT, require

GUANGZHOU, SHENZHEN, ZHONGSHAN = CITIES[0], CITIES[1], CITIES[11]
CITY_GUIDE = {
    "id": "G1", "事项名称": "广州市户籍迁入", "目录事项名称(主项)": "户籍迁入", "子项名称": "", "事项类型": "行政确认",
    "实施主体": "广州市公安局", "行政区划": "广东省广州市", "行使层级": "市级", "服务对象": ["自然人"],
    "主题分类": ["户籍办理"], "业务办理项编码": "B1", "到办事现场次数": "1", "联办机构": "",
    "办理地点": "广州市天河区华利路61号广州市政务服务中心3楼", "受理条件(首段)": "在广州市有合法稳定住所的。",
    "咨询电话": "020-12345；(020)83134173转8", "投诉电话": "", "是否支持物流快递": "否", "是否网办": "是",
    "在线预约地址": "http://ap.gzonline.gov.cn/x", "业务系统": "广州市政务服务网", "详情页URL": "http://zwfw.gzonline.gov.cn/g1",
    "法定办结时限": "20(工作日)", "承诺办结时限": "5(工作日)", "办理时间": "周一至周五",
    "申请材料": ["广州市居住证", "身份证"],
    "_source": {"repo": "r", "licence": "MIT"},
}
PROVINCE_GUIDE = {
    **CITY_GUIDE, "id": "P1", "事项名称": "律师执业许可", "实施主体": "广东省司法厅", "行政区划": "广东省",
    "行使层级": "省级", "办理地点": "无线下办理窗口", "咨询电话": "020-37628755", "受理条件(首段)": "在广州市执业的。",
    "业务办理项编码": "",
}


def test_a_city_guide_becomes_another_citys_own() -> None:
    assert city_copy(CITY_GUIDE, SHENZHEN) == {
        **CITY_GUIDE,
        "id": "G1-440300",
        "事项名称": "深圳市户籍迁入",
        "实施主体": "深圳市公安局",
        "行政区划": "广东省深圳市",
        "业务办理项编码": "B1-440300",
        "办理地点": "深圳市龙岗区新华路58号综合办公楼1楼办事大厅",
        "受理条件(首段)": "在深圳市有合法稳定住所的。",
        "咨询电话": "0755-12345；0755-51591227转8",  # 12345 is the service line everywhere
        "业务系统": "深圳市政务服务网",
        "申请材料": ["深圳市居住证", "身份证"],
        "_source": {"repo": "r", "licence": "MIT", "synthetic": "evals.province: 深圳市 copy of G1"},
    }


def test_a_province_guide_gets_the_citys_office_and_keeps_what_it_says_of_other_places() -> None:
    assert city_copy(PROVINCE_GUIDE, ZHONGSHAN) == {
        **PROVINCE_GUIDE,
        "id": "P1-442000",
        "实施主体": "中山市司法局",
        "行政区划": "广东省中山市",
        "行使层级": "市级",
        "咨询电话": "0760-23211133",
        "_source": {"repo": "r", "licence": "MIT", "synthetic": "evals.province: 中山市 copy of P1"},
    }


def test_originals_first_then_each_city_without_its_own_guides_again() -> None:
    records = [PROVINCE_GUIDE, CITY_GUIDE]
    assert most_guides(records) == 2 + 2 * len(CITIES) - 1
    ids = [r["id"] for r in province_guides(records, 5)]
    assert ids == ["P1", "G1", "P1-440100", "P1-440300", "G1-440300"]
    with pytest.raises(ValueError, match="guides must be between 1 and 43 .* Currently, guides is 44"):
        list(province_guides(records, 44))


def test_the_cli_writes_nothing_into_the_repository(tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    export.write_text(json.dumps(PROVINCE_GUIDE, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main([str(ROOT / "evals" / "province-test.jsonl"), "--guides", "2", "--export", str(export)]) == 1
    assert not (ROOT / "evals" / "province-test.jsonl").exists()
    assert main([str(tmp_path / "out.jsonl"), "--guides", "2", "--export", str(export)]) == 0
    assert [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()] \
        == ["P1", "P1-440100"]


def test_a_small_province_from_the_real_export_is_stable_and_imports_whole(tmp_path: Path) -> None:
    export = require(GD_EXPORT)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert write_province(export, first, 2_400) == {"广东省": 2_302, "广州市": 98}
    write_province(export, second, 2_400)
    assert first.read_bytes() == second.read_bytes()

    originals = read_export(export)
    records: list[dict[str, Any]] = [json.loads(line) for line in first.read_text(encoding="utf-8").splitlines()]
    assert records[:2_302] == originals
    assert len({r["id"] for r in records}) == 2_400
    for copy in records[2_302:]:
        assert copy["id"].endswith("-440100") and copy["行政区划"] == "广东省广州市", copy["id"]
        assert copy["_source"]["synthetic"].startswith("evals.province: 广州市 copy of ")

    loaded = load_source(first)
    assert loaded.origin == "import:gd2021:a.jsonl"
    assert (loaded.raw_count, len(loaded.guides), loaded.rejects) == (2_400, 2_400, [])
    guides = [normalise_record(g) for g in loaded.guides]  # what the ingest does next; raises on a bad record
    for guide in guides[2_302:]:
        assert guide.level == "市级"
        assert all(place.region == "广东省广州市" and place.address and place.address.startswith("广州市")
                   for place in guide.locations), guide.id
        for phone in (guide.consult_phone, guide.complaint_phone):
            assert phone is None or "020-" in phone or "-" not in phone, (guide.id, phone)
    assert sum(1 for g in guides[2_302:] if g.locations) > 50  # most copies have a counter of their own
