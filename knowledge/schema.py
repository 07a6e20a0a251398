"""The knowledge data contract: ServiceGuide, Theme, Pack and their parts.

The models follow ``knowledge-format.md``: English keys, strict (unknown keys are errors),
frozen. An absent field is ``None`` or empty, never an empty string pretending to be a value.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


def _blank_to_none(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        return None
    return value


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_empty_strings(cls, value: object) -> object:
        if isinstance(value, list):
            return [v for v in value if _blank_to_none(v) is not None]
        return _blank_to_none(value)


NonEmpty = Annotated[str, Field(min_length=1)]


class Material(_Record):
    """申请材料: one document the applicant brings or uploads."""

    name: NonEmpty
    form: str | None = None  # 原件/复印件/电子证照/…
    copies: int | None = Field(default=None, ge=0)
    required: bool = True
    note: str | None = None
    exemptible: bool = False  # 免提交: the office fetches it itself


class Location(_Record):
    """办理地点: a hall, office or counter where the item is handled."""

    name: str | None = None
    address: str | None = None
    window: str | None = None
    hours: str | None = None
    phone: str | None = None
    region: str | None = None

    @model_validator(mode="after")
    def _has_something(self) -> Location:
        if not (self.name or self.address):
            raise ValueError("a location needs a name or an address")
        return self


class Source(_Record):
    """来源: what a citation links to."""

    title: NonEmpty
    url: str | None = None
    retrieved: dt.date | None = None


class FAQ(_Record):
    q: NonEmpty
    a: NonEmpty


class ServiceGuide(_Record):
    """办事指南: one service item (事项) or sub-item (子项)."""

    id: NonEmpty
    name: NonEmpty
    aliases: list[str] = []
    kind: str | None = None
    department: str | None = None
    co_departments: list[str] = []
    region: str | None = None
    level: str | None = None
    audience: list[str] = []
    topics: list[str] = []
    eligibility: str | None = None
    materials: list[Material] = []
    steps: list[str] = []
    channels: list[str] = []
    online_url: str | None = None
    locations: list[Location] = []
    visits: int | None = Field(default=None, ge=0)
    time_limit_legal: str | None = None
    time_limit_promised: str | None = None
    fee: str | None = None
    basis: list[str] = []
    result: str | None = None
    delivery: list[str] = []
    consult_phone: str | None = None
    complaint_phone: str | None = None
    faq: list[FAQ] = []
    source: Source | None = None
    updated: dt.date | None = None
    parent_name: str | None = None  # 目录事项名称(主项), for sub-items
    extra: dict[str, str] = {}  # importer-kept facts with no field of their own (e.g. 业务系统)


class Theme(_Record):
    """一件事: a bundle of items done together for one life or business event."""

    id: NonEmpty
    name: NonEmpty
    aliases: list[str] = []
    audience: list[str] = []
    region: str | None = None
    summary: str | None = None
    items: list[NonEmpty] = Field(min_length=1)
    lead_department: str | None = None
    materials: list[Material] = []
    steps: list[str] = []
    channels: list[str] = []
    online_url: str | None = None
    locations: list[Location] = []
    time_limit_promised: str | None = None
    fee: str | None = None
    visits: int | None = Field(default=None, ge=0)
    outcomes: list[str] = []
    consult_phone: str | None = None
    source: Source | None = None
    updated: dt.date | None = None


class Window(_Record):
    name: NonEmpty
    services: list[str] = []


class Kiosk(_Record):
    id: NonEmpty
    location: str | None = None


class Hall(_Record):
    """政务服务中心: a hall the pack knows, so kiosk answers can name floors and windows."""

    id: NonEmpty
    name: NonEmpty
    region: str | None = None
    address: str | None = None
    hours: str | None = None
    phone: str | None = None
    windows: list[Window] = []
    kiosks: list[Kiosk] = []


class Pack(_Record):
    """pack.yaml: what a knowledge pack is, where it comes from and which halls it knows."""

    name: NonEmpty
    title: str | None = None
    region: str | None = None
    sample: bool = False  # True: fictional sample data, never to be shown as a real city's
    description: str | None = None
    provenance: str | None = None
    licence: str | None = None
    halls: list[Hall] = []
