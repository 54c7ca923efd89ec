"""Helsedirektoratet's quality indicators: the index, the rows, and a run without a key."""

from __future__ import annotations

import pytest
import pytest_twisted

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import helsedir
from atlas_crawl.run.golden import crawl, crawl_settings, runs

RESPONSES = PROJECT_DIR / "golden" / "helsedir_nki" / "responses"


def test_index_keeps_indicators_with_json_data():
    [indicator] = helsedir.parse_index((RESPONSES / "index_constructed.json").read_bytes())
    assert indicator.id == "a1b2c3d4-0001"
    assert indicator.data_url.endswith("/0071.json")
    with pytest.raises(helsedir.HelsedirError, match=r"i\.json: item 0: field 'id'"):
        helsedir.parse_index(b'[{"tittel": "x"}]', where="i.json")


def test_rows_keep_the_no_data_sentinel_as_status():
    indicator = helsedir.Indicator("a1b2c3d4-0001", "Korridor", "")
    rows = [dict(zip(helsedir.COLUMNS, r)) for r in helsedir.parse_indicator(
        (RESPONSES / "0071_constructed.json").read_bytes(), indicator)]
    bergen = next(r for r in rows if r["location_name"] == "Helse Bergen HF")
    assert (bergen["value"], bergen["status"], bergen["periode"]) == (None, "ingen data", "2024")
    tertial = next(r for r in rows if r["period_type"] == "Tertialvis")
    assert (tertial["value"], tertial["periode"]) == (1.6, "2024-05-01")
    with pytest.raises(helsedir.HelsedirError, match="field 'Value': not a number"):
        helsedir.parse_indicator(b'{"AttachmentDataRows": [{"Value": "x"}]}', indicator)


@pytest_twisted.ensureDeferred
async def test_without_a_key_one_line_says_how_to_get_one(tmp_path, caplog, monkeypatch):
    monkeypatch.delenv("ATLAS_HELSEDIR_KEY", raising=False)
    db = tmp_path / "atlas.db"
    await crawl("helsedir_nki", crawl_settings(db, replay=False))
    assert runs(db)[-1]["status"] != "ok"
    assert "helsedir_nki needs a HAPI subscription key: sign up at" in caplog.text
