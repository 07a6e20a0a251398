"""Ingest: knowledge files and third-party exports in, validated records and indexed chunks out."""
