"""FHI answers in the narrow layout: codes, periode, value and status per cell; labels, units and
`updated` once per code in the dimension tables."""

from __future__ import annotations

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import fhi

SELVMORD = (PROJECT_DIR / "golden" / "fhi_selvmord_file" / "responses"
            / "selvmord_344_constructed_bom.json")


def narrow():
    ds = fhi.dataset(SELVMORD.read_bytes())
    derived = fhi.period_columns(ds.key)
    return ds, ds.narrow_columns(derived), list(ds.fact_rows(derived))


def test_cells_hold_codes_periode_value_and_status_only():
    _, columns, rows = narrow()
    assert columns == ["geo", "aar", "periode", "kjonn", "measure_type", "value", "status"]
    assert not [c for c in columns if c.endswith("_label") or c in ("unit", "updated")]
    cells = {(r[0], r[1], r[4]): r for r in rows}
    assert cells[("03", "2019_2023", "RATE")] == ("03", "2019_2023", "2019-2023", "0", "RATE",
                                                  11.6, None)


def test_hidden_values_become_status_with_no_value():
    _, _, rows = narrow()
    cells = {(r[0], r[1], r[4]): (r[5], r[6]) for r in rows}
    assert cells[("030101", "2018_2022", "TELLER")] == (None, "k")
    assert cells[("9999", "2019_2023", "RATE")] == (None, "..")


def test_labels_units_and_updated_once_per_code():
    ds, _, rows = narrow()
    tables = {dim.column: (columns, table) for dim, columns, table in ds.dimension_tables()}
    assert tables["geo"][1][:2] == [("0", "Hele landet"), ("03", "Oslo")]
    assert tables["aar"][1] == [("2018_2022", "2018-2022"), ("2019_2023", "2019-2023")]
    columns, metric = tables["measure_type"]
    assert columns == ["code", "label", "unit", "decimals", "updated"]
    assert ("TELLER", "antall", "antall", 0, "2026-03-01T08:00:00+00:00") in metric
    # the wide form is the same cells with the labels joined back
    _, wide, _ = fhi.decode(SELVMORD.read_bytes())
    assert len(list(wide)) == len(rows)
