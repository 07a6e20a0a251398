"""Importers turn third-party exports into the knowledge format.

An importer is a mapping (one export record → one ServiceGuide dict) plus a way to recognise
its files; the reading, validation and reporting are shared. A new export format is a new
mapping module registered here.
"""

from __future__ import annotations

from ingest.importers.base import ExportMapping, detect_mapping, import_export
from ingest.importers.gd2021 import GD2021

MAPPINGS: dict[str, ExportMapping] = {GD2021.name: GD2021}

__all__ = ["MAPPINGS", "ExportMapping", "detect_mapping", "import_export"]
