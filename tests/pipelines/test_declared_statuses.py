"""A status is one of the publisher's declared symbols; anything else is quarantined."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_crawl.items import Batch, Provenance
from atlas_crawl.manifests import ManifestError, get_manifest, parse_manifest
from atlas_crawl.pipelines.contract import declared_statuses, quarantine_undeclared_statuses


def _batch(*statuses):
    return Batch(source_id="nav_helt_ledige", columns=["region", "value", "status"],
                 rows=[(f"r{n}", None if s else 1.0, s) for n, s in enumerate(statuses)],
                 key=["region"], provenance=Provenance.of("file:x", b""))


def test_declared_symbols_pass_and_others_are_quarantined_with_row_and_column():
    batch = _batch(None, "*", "ca. 1800", "..", "1 800 (foreløpig)")
    quarantine_undeclared_statuses(batch, get_manifest("nav_helt_ledige"))
    assert [r[0] for r in batch.rows] == ["r0", "r1", "r3"]
    assert [(q.column, q.raw_value, q.row["region"]) for q in batch.quarantine] == [
        ("value", "ca. 1800", "r2"), ("value", "1 800 (foreløpig)", "r4")]
    assert batch.quarantine[0].reason.startswith("row 3 of the batch, column value: 'ca. 1800' "
                                                 "is neither a number nor a symbol")


def test_manifests_add_their_publishers_own_words():
    assert "avventer vedtak" in declared_statuses(get_manifest("imdi_bosetting"))
    assert "avventer vedtak" not in declared_statuses(get_manifest("nav_helt_ledige"))
    assert "k" in declared_statuses(get_manifest("fhi_selvmord"))
    assert "ingen data" in declared_statuses(get_manifest("helsedir_nki"))


def test_status_symbols_must_be_a_list_of_text():
    data = {"source_id": "x", "upstream_id": "1", "upstream_url": "u", "upstream_title": "t",
            "description": "d", "publisher": "p", "license": "l", "license_url": "u",
            "periodicity": "P1Y", "eu_theme": "GOVE", "attribution": "a",
            "tags": {"provider": "nav", "topic": "social", "geo": "kommune",
                     "cadence": "annual"},
            "dimensions": [{"code": "c", "meaning": "m"}], "presentation_policy": "standard",
            "methodology_version": "1"}
    assert parse_manifest(Path("x.yml"), {**data, "status_symbols": ["k"]}).status_symbols == {"k"}
    with pytest.raises(ManifestError, match="x.yml: field 'status_symbols'"):
        parse_manifest(Path("x.yml"), {**data, "status_symbols": "k"})
