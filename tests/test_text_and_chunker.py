from __future__ import annotations

from ingest.chunker import MAX_CHARS, chunk_record, split_text
from ingest.normalise import normalise_record
from knowledge.schema import Material, ServiceGuide
from knowledge.text import normalise_text

GUIDE = ServiceGuide(
    id="g1", name="居住证申领", aliases=["办居住证"], kind="公共服务", region="示例市",
    eligibility="在本市居住半年以上。" * 30,
    materials=[Material(name="居民身份证", form="原件", copies=1), Material(name="照片", exemptible=True)],
    fee="不收费", consult_phone="0000-1",
)


def test_normalise_text() -> None:
    assert normalise_text("開餐廳要什麼證？　ＡＢ１２３，資料") == "开餐厅要什么证？ AB123，资料"
    assert normalise_text("  第一行 \n\n\n  第二行\t\t尾  ") == "第一行\n第二行 尾"
    folded = "具有完全民事行为能力， 并已协商一致。 一方不同意的"  # YAML folded two lines
    assert normalise_text(folded) == "具有完全民事行为能力，并已协商一致。一方不同意的"
    title = "《住房城乡建设部 财政部关于…的通知》"
    assert normalise_text(title) == title  # words stay apart


def test_normalise_record_keeps_ids_and_urls() -> None:
    guide = ServiceGuide(id="ID-繁", name="個體工商戶", online_url="https://x.example/繁")
    out = normalise_record(guide)
    assert (out.id, out.name, out.online_url) == ("ID-繁", "个体工商户", "https://x.example/繁")


def test_split_text_respects_limit_and_sentences() -> None:
    assert split_text("甲。乙。", 20) == ["甲。乙。"]
    pieces = split_text("一二三四五六七八九十。" * 10, 25)
    assert all(len(p) <= 25 for p in pieces) and "".join(pieces) == "一二三四五六七八九十。" * 10
    long_sentence = "字" * 70
    assert split_text(long_sentence, 30) == ["字" * 30, "字" * 30, "字" * 10]


def test_chunks_are_field_aware_and_stand_alone() -> None:
    chunks = chunk_record(GUIDE, "pack:t")
    assert chunks[0].section == "name" and chunks[0].text == "居住证申领"
    assert chunks[1].section == "aliases" and chunks[1].text == "【居住证申领】常用说法：办居住证。"
    assert all(c.text.startswith("【居住证申领】") for c in chunks[1:])
    assert all(len(c.text) <= MAX_CHARS for c in chunks)
    sections = [c.section for c in chunks]
    assert sections.count("eligibility") >= 2
    materials = [c.text for c in chunks if c.section == "materials"]
    assert materials == ["【居住证申领】申请材料：1. 居民身份证（原件，1份）；2. 照片（可免提交）。"]
    assert [c.text for c in chunks if c.section == "contact"] == ["【居住证申领】咨询电话：0000-1。"]
    assert {c.record_id for c in chunks} == {"g1"} and {c.origin for c in chunks} == {"pack:t"}


def test_lists_read_as_one_sentence() -> None:
    guide = GUIDE.model_copy(update={"steps": ["提交申请。", "审核；", "领证"], "basis": ["《条例》第一条。"]})
    chunks = {c.section: c.text for c in chunk_record(guide, "pack:t")}
    assert chunks["steps"] == "【居住证申领】办理流程：1. 提交申请；2. 审核；3. 领证。"  # no "。；" between items
    assert chunks["basis"] == "【居住证申领】设定依据：《条例》第一条。"


def test_chunk_ids_are_content_hashes() -> None:
    first = {c.section: c.id for c in chunk_record(GUIDE, "pack:t")}
    again = {c.section: c.id for c in chunk_record(GUIDE, "pack:t")}
    assert first == again
    changed = GUIDE.model_copy(update={"fee": "20元"})
    after = {c.section: c.id for c in chunk_record(changed, "pack:t")}
    assert [s for s in first if first[s] != after[s]] == ["time_fee"]
