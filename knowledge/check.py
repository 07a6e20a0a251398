"""``python -m knowledge.check PACK_DIR``: validate a pack without indexing it."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from knowledge.errors import KnowledgeError
from knowledge.loader import Loaded, Reject, load_pack


def cross_check(loaded: Loaded) -> list[Reject]:
    """Problems between records: duplicate ids, theme items not in the pack."""
    problems = []
    counts = Counter(g.id for g in loaded.guides) + Counter(t.id for t in loaded.themes)
    for record_id, n in counts.items():
        if n > 1:
            problems.append(Reject("(pack)", record_id, f"id used by {n} records"))
    guide_ids = {g.id for g in loaded.guides}
    for theme in loaded.themes:
        for item in theme.items:
            if item not in guide_ids:
                problems.append(Reject("(pack)", theme.id, f"items: {item!r} is not a guide here"))
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m knowledge.check PACK_DIR", file=sys.stderr)
        return 2
    try:
        loaded = load_pack(Path(args[0]))
    except KnowledgeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    problems = loaded.rejects + cross_check(loaded)
    for problem in problems:
        print(problem)
    print(f"{len(loaded.guides)} guides, {len(loaded.themes)} themes, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
