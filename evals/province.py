"""A synthetic province export (not real knowledge): the 广东 2021 guides re-issued for each prefecture city.

``python -m evals.province OUT.jsonl [--guides 20000] [--export PATH]`` writes the 2,302 real guides first,
then, city by city (广州市, 深圳市, …), a copy of each of them as that city's own guide: the city's region and
level, its own department (广东省司法厅 → 深圳市司法局), a made-up address in one of its districts, phones
with its area code, the city's name where the original named its own city, and an id of its own
(``<original id>-<city code>``). A city's copy of a guide that already is that city's (广州's own 238) is
skipped. Every copy says in ``_source`` that it is synthetic. The same arguments give the same file, byte
for byte. The output is for benchmarks at province size; it stays out of the repository (the real export
is not ours to copy), so OUT must lie outside it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EXPORT = ROOT.parent / "shared" / "data" / "gd-guides-2021.jsonl"
PROVINCE = "广东省"
NO_COUNTER = ("无线下办理窗口", "无")  # addresses that are not a place: kept as they are


@dataclass(frozen=True)
class City:
    name: str
    code: str  # 行政区划代码
    area_code: str  # telephone
    districts: tuple[str, ...]


# The order copies are made in: a 10,000-guide file holds the originals and 广州, 深圳, 珠海 and part of 汕头.
CITIES = (
    City("广州市", "440100", "020", ("越秀区", "天河区", "海珠区", "白云区")),
    City("深圳市", "440300", "0755", ("福田区", "罗湖区", "南山区", "龙岗区")),
    City("珠海市", "440400", "0756", ("香洲区", "斗门区", "金湾区")),
    City("汕头市", "440500", "0754", ("金平区", "龙湖区", "濠江区")),
    City("佛山市", "440600", "0757", ("禅城区", "南海区", "顺德区")),
    City("韶关市", "440200", "0751", ("浈江区", "武江区", "曲江区")),
    City("河源市", "441600", "0762", ("源城区", "东源县")),
    City("梅州市", "441400", "0753", ("梅江区", "梅县区")),
    City("惠州市", "441300", "0752", ("惠城区", "惠阳区")),
    City("汕尾市", "441500", "0660", ("城区", "海丰县")),
    City("东莞市", "441900", "0769", ("莞城街道", "南城街道", "东城街道")),
    City("中山市", "442000", "0760", ("石岐街道", "东区街道", "西区街道")),
    City("江门市", "440700", "0750", ("蓬江区", "江海区", "新会区")),
    City("阳江市", "441700", "0662", ("江城区", "阳东区")),
    City("湛江市", "440800", "0759", ("赤坎区", "霞山区", "麻章区")),
    City("茂名市", "440900", "0668", ("茂南区", "电白区")),
    City("肇庆市", "441200", "0758", ("端州区", "鼎湖区")),
    City("清远市", "441800", "0763", ("清城区", "清新区")),
    City("潮州市", "445100", "0768", ("湘桥区", "潮安区")),
    City("揭阳市", "445200", "0663", ("榕城区", "揭东区")),
    City("云浮市", "445300", "0766", ("云城区", "云安区")),
)
_ROADS = ("人民路", "府前路", "建设路", "新华路", "文明路", "解放路", "政通路", "迎宾大道", "发展大道", "东华路")
_HALLS = ("政务服务中心{floor}楼{window}号窗口", "行政服务大厅{window}号窗口", "综合办公楼{floor}楼办事大厅")
# An area code (020, (0760), 0755–) and the local number after it; a local number of 5 digits or fewer
# (12345, 96333) is a service line, the same in every city.
_PHONE = re.compile(r"[（(]?(0\d{2,3})[）)]?\s*[-–—]*\s*(\d{5,9})")
# Copied as they are: the ids (made anew), links (the original's page) and the fields rebuilt below.
_AS_IS = frozenset({"id", "详情页URL", "在线预约地址", "_source"})
_REBUILT = frozenset({"行政区划", "行使层级", "实施主体", "联办机构", "办理地点", "咨询电话", "投诉电话",
                      "业务办理项编码"})


def _number(*seed: str) -> int:
    """A stable number from text (Python's ``hash`` differs between runs)."""
    return int.from_bytes(hashlib.sha256("\x1f".join(seed).encode()).digest()[:8], "big")


def _own_city(raw: dict[str, Any]) -> str | None:
    """The city a guide of the export belongs to (广州市 for 广东省广州市), None for a province guide."""
    region = str(raw.get("行政区划") or "")
    return (region.removeprefix(PROVINCE) or None) if region.startswith(PROVINCE) else None


def _department(name: str, own: str | None, city: City) -> str:
    """The city's counterpart of an office: 广州市公安局 → 深圳市公安局, 广东省司法厅 → 深圳市司法局."""
    if own and own in name:
        return name.replace(own, city.name)
    if PROVINCE not in name:
        return name  # a national body or a company (中国水产科学研究院珠江水产研究所): the same office
    local = name.replace(PROVINCE, city.name)
    return local[:-1] + "局" if local.endswith("厅") else local


def _address(address: str, city: City) -> str:
    """A made-up address in one of the city's districts; one original office gives one office per city."""
    n = _number(address, city.name)
    district = city.districts[n % len(city.districts)]
    road = _ROADS[n // 7 % len(_ROADS)]
    hall = _HALLS[n // 71 % len(_HALLS)].format(floor=1 + n // 211 % 5, window=1 + n // 1051 % 30)
    return f"{city.name}{district}{road}{1 + n // 9 % 298}号{hall}"


def _phones(text: str, city: City) -> str:
    """Every number with an area code gets the city's code and a local number of the same length."""

    def local(match: re.Match[str]) -> str:
        number = match.group(2)
        if len(number) > 5:
            n = _number(number, city.name)
            number = str(2 + n % 7) + str(n // 7).zfill(len(number))[-(len(number) - 1):]
        return f"{city.area_code}-{number}"

    return _PHONE.sub(local, text)


def _renamed(value: Any, own: str | None, city: City) -> Any:
    """Text (or a list of texts) with the guide's own city named as ``city``."""
    if own is None:
        return value
    if isinstance(value, str):
        return value.replace(own, city.name)
    if isinstance(value, list):
        return [_renamed(v, own, city) for v in value]
    return value


def city_copy(raw: dict[str, Any], city: City) -> dict[str, Any]:
    """One export record re-issued as ``city``'s own guide, in the export's format (keys in the same order)."""
    own = _own_city(raw)
    copy = {key: value if key in _AS_IS | _REBUILT else _renamed(value, own, city) for key, value in raw.items()}
    copy["id"] = f"{raw['id']}-{city.code}"
    copy["行政区划"] = PROVINCE + city.name
    if raw.get("行使层级") == "省级":
        copy["行使层级"] = "市级"
    for key in ("实施主体", "联办机构"):
        if raw.get(key):
            copy[key] = _department(raw[key], own, city)
    address = str(raw.get("办理地点") or "").strip()
    if address and address not in NO_COUNTER:
        copy["办理地点"] = _address(address, city)
    for key in ("咨询电话", "投诉电话"):
        if raw.get(key):
            copy[key] = _phones(_renamed(raw[key], own, city), city)
    if raw.get("业务办理项编码"):
        copy["业务办理项编码"] = f"{raw['业务办理项编码']}-{city.code}"
    source = raw.get("_source")
    copy["_source"] = {**(source if isinstance(source, dict) else {}),
                       "synthetic": f"evals.province: {city.name} copy of {raw['id']}"}
    return copy


def most_guides(records: list[dict[str, Any]]) -> int:
    """How many guides a province file from ``records`` can hold: the originals and every city's copies."""
    own = [_own_city(r) for r in records]
    return len(records) + sum(sum(1 for o in own if o != city.name) for city in CITIES)


def province_guides(records: list[dict[str, Any]], guides: int) -> Iterator[dict[str, Any]]:
    """The first ``guides`` records of the province: the originals, then each city's copies in CITIES order.

    Raises ValueError when ``guides`` is not between 1 and :func:`most_guides`.
    """
    most = most_guides(records)
    if not 1 <= guides <= most:
        raise ValueError(f"guides must be between 1 and {most} for {len(records)} records and {len(CITIES)} "
                         f"cities. Currently, guides is {guides}")
    made = 0
    for record in records:
        if made == guides:
            return
        yield record
        made += 1
    for city in CITIES:
        for record in records:
            if made == guides:
                return
            if _own_city(record) != city.name:
                yield city_copy(record, city)
                made += 1


def read_export(path: Path) -> list[dict[str, Any]]:
    """The export's records, in file order; raises ValueError naming the line of one that is not an object."""
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
            records.append(record)
    return records


def write_province(export: Path, out: Path, guides: int) -> dict[str, int]:
    """Write the first ``guides`` guides of the province made from ``export`` to ``out`` (JSONL).

    Returns how many guides each city got (the originals under ``PROVINCE``).
    """
    records = read_export(export)
    counts: dict[str, int] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as file:
        for number, record in enumerate(province_guides(records, guides)):
            place = PROVINCE if number < len(records) else str(record["行政区划"]).removeprefix(PROVINCE)
            counts[place] = counts.get(place, 0) + 1
            file.write(json.dumps(record, ensure_ascii=False) + "\n")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="the JSONL file to write (outside the repository, e.g. under /tmp)")
    parser.add_argument("--guides", type=int, default=20_000, help="how many guides in all (default 20000)")
    parser.add_argument("--export", type=Path, default=DEFAULT_EXPORT,
                        help=f"the real export (default {DEFAULT_EXPORT})")
    args = parser.parse_args(argv)
    if not args.export.is_file():
        print(f"error: {args.export}: no such export", file=sys.stderr)
        return 1
    if args.out.resolve().is_relative_to(ROOT):
        print(f"error: {args.out}: inside the repository; write the province file elsewhere (e.g. /tmp)",
              file=sys.stderr)
        return 1
    try:
        counts = write_province(args.export, args.out, args.guides)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    cities = ", ".join(f"{place} {n}" for place, n in counts.items() if place != PROVINCE)
    print(f"wrote {sum(counts.values())} guides to {args.out}: {counts.get(PROVINCE, 0)} original"
          + (f", copies for {cities}" if cities else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
