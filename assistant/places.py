"""Does a question name a place outside the area the knowledge covers ("北京的社保卡怎么补办" to 广东省's guides)?

Each pack, and each import, declares its area (``Pack.region``: 广东省, 示例市). The provinces and major
cities a question may name are in ``data/places.tsv``. A place is named as where the question is about
unless the words around it say it is where the citizen comes from or goes to (老家河南, 去北京, 湖北人).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from assistant.lexicon import LEXICON
from knowledge.errors import ConfigError

PLACES = Path(__file__).resolve().parent / "data" / "places.tsv"
# Before a name: where the citizen comes from or travels to; after it: a person or a household's origin,
# or a street named after the place (北京路 is in 广州).
_ORIGIN_BEFORE = LEXICON.pattern("origin-before", after="$")
_ORIGIN_AFTER = LEXICON.pattern("origin-after", before="^")


@dataclass(frozen=True)
class Place:
    name: str  # 北京市
    short: str  # 北京
    province: str  # 北京市; 广东省 for 广州市

    def within(self, area: str) -> bool:
        """Is this place the area, inside it, or around it (广州市 and 广东省; 广东省 and 广东省广州市)?"""
        if self.name == self.province:
            return area.startswith(self.name)
        return area == self.province or self.name in area


def load_places(path: Path = PLACES) -> list[Place]:
    """Rows of ``name<TAB>short<TAB>province``; ``#`` starts a comment. Raises ConfigError naming a bad line."""
    places = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("\t")]
        if len(parts) != 3 or not all(parts):
            raise ConfigError(f"{path} line {number}: expected name, short name and province, got {line!r}")
        places.append(Place(*parts))
    return sorted(places, key=lambda p: -len(p.short))  # 内蒙古 before a shorter name inside it


def of_origin(after: str) -> bool:
    """Do the words right after a place's name say it is a person's or a household's origin ("广州户口", "湖北人")?"""
    return _ORIGIN_AFTER.match(after) is not None


def place_elsewhere(text: str, areas: list[str], places: list[Place]) -> Place | None:
    """The first place the question names as where it is about and that lies outside every area; None when it
    names none, or no area is declared."""
    if not areas:
        return None
    for place in places:
        for name in (place.name, place.short):
            for found in re.finditer(re.escape(name), text):
                before, after = text[max(0, found.start() - 4) : found.start()], text[found.end() :]
                if _ORIGIN_BEFORE.search(before) or _ORIGIN_AFTER.match(after):
                    continue
                if not any(place.within(area) for area in areas):
                    return place
                break
    return None
