from __future__ import annotations

import pytest
from pydantic import ValidationError

from knowledge.loader import describe_validation_error
from knowledge.schema import Location, Material, ServiceGuide, Theme


def test_guide_minimal_and_defaults() -> None:
    guide = ServiceGuide(id="g1", name="居住证申领")
    assert guide.aliases == [] and guide.fee is None and guide.visits is None and guide.source is None


def test_unknown_key_is_an_error_naming_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        ServiceGuide.model_validate({"id": "g1", "name": "x", "phone": "123"})
    assert describe_validation_error(caught.value) == "phone: Extra inputs are not permitted (got '123')"


def test_empty_strings_are_absent_not_values() -> None:
    guide = ServiceGuide.model_validate(
        {"id": "g1", "name": "x", "fee": "  ", "aliases": ["", "办证"], "consult_phone": ""}
    )
    assert guide.fee is None and guide.consult_phone is None and guide.aliases == ["办证"]


def test_fee_free_is_a_value() -> None:
    assert ServiceGuide(id="g1", name="x", fee="不收费").fee == "不收费"


def test_material_defaults() -> None:
    assert Material(name="居民身份证").model_dump() == {
        "name": "居民身份证", "form": None, "copies": None, "required": True, "note": None, "exemptible": False,
    }


def test_location_needs_a_name_or_address() -> None:
    with pytest.raises(ValidationError, match="needs a name or an address"):
        Location(hours="9:00-17:00")


def test_negative_visits_rejected() -> None:
    with pytest.raises(ValidationError, match="visits"):
        ServiceGuide(id="g1", name="x", visits=-1)


def test_theme_needs_items() -> None:
    with pytest.raises(ValidationError, match="items"):
        Theme(id="t", name="一件事", items=[])
