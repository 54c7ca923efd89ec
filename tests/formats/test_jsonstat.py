"""JSON-stat 2.0 decoding: the real SSB responses in golden/ (from realdata), plus tiny inline documents
for the shapes those files do not show (sparse values, status as array or string, index as
array, sizes that disagree)."""

import json
from itertools import product
from pathlib import Path

import pytest

from atlas_crawl.formats.jsonstat import JsonStatError, column_name, decode
from atlas_crawl.run.golden import GOLDEN_DIR

V2_05803 = GOLDEN_DIR / "ssb_table" / "responses" / "v2_data_05803_lang-no_with-status.json"
V0_07459 = GOLDEN_DIR / "ssb_07459" / "responses" / \
    "v0_table_07459_post_json-stat2_agg-KommSummer_2022.json"


def needs(path: Path) -> Path:
    assert path.exists(), f"the real capture {path} is missing from the project"
    return path


def doc(ids, categories, value, **extra):
    """A minimal JSON-stat2 dataset; `categories` maps each id to its codes (index object)."""
    return {
        "version": "2.0", "class": "dataset", "label": "t", "updated": "2026-01-01T00:00:00Z",
        "id": ids, "size": [len(categories[i]) for i in ids],
        "dimension": {
            i: {"label": i.lower(), "category": {
                "index": {c: n for n, c in enumerate(categories[i])},
                "label": {c: f"{c} label" for c in categories[i]}}}
            for i in ids
        },
        "value": value, **extra,
    }


# -- real captures -------------------------------------------------------------------------------

def test_v2_05803_every_cell_with_status_and_units():
    dataset = decode(needs(V2_05803).read_bytes())
    assert dataset.table_id == "05803"
    assert dataset.label == "05803: Endringer i befolkningen i løpet av året, etter år"
    assert dataset.updated == "2026-04-15T06:00:00Z"
    assert dataset.columns == ["contentscode", "contentscode_label", "unit", "decimals", "tid",
                               "tid_label", "value", "status", "updated"]
    assert dataset.key == ["contentscode", "tid"]
    assert [d.elimination for d in dataset.dimensions] == [False, False]
    rows = list(dataset.rows())
    assert len(rows) == dataset.size == 12
    # Row-major: ContentsCode is the outer dimension, Tid varies fastest.
    assert rows[0] == ("Personer", "Befolkning 1. januar", "personer", 0, "1735", "1735",
                       616109, None, "2026-04-15T06:00:00Z")
    assert rows[3][4:8] == ("2026", "2026", 5627400, None)
    # `status` is an object keyed by the flat cell index ("4": ".."): value NULL, symbol kept.
    assert rows[4] == ("Skilsmisse", "Skilsmisser", "skilsmisser", 0, "1735", "1735", None,
                       "..", "2026-04-15T06:00:00Z")
    # A real 0 next to suppressed cells stays 0 with no status.
    assert rows[6][4:8] == ("2025", "2025", 0, None)
    assert rows[10][:1] + rows[10][4:8] == ("Innflyttinger", "2025", "2025", 55243, None)
    suppressed = [(r[0], r[4]) for r in rows if r[7] is not None]
    assert suppressed == [("Skilsmisse", "1735"), ("Skilsmisse", "1736"), ("Skilsmisse", "2026"),
                          ("Innflyttinger", "1735"), ("Innflyttinger", "1736"),
                          ("Innflyttinger", "2026")]
    assert all(r[6] is None and r[7] == ".." for r in rows if r[7] is not None)


def test_v0_07459_region_codes_as_published_and_sami_names():
    dataset = decode(needs(V0_07459).read_bytes())
    assert dataset.table_id == "07459"
    assert dataset.key == ["region", "contentscode", "tid"]
    rows = {r[0]: r for r in dataset.rows()}
    assert len(rows) == 359
    assert rows["K-0301"] == ("K-0301", "Oslo", "Personer1", "Personer", "personer", 0, "2022",
                              "2022", 699827, None, "2022-02-24T07:00:00Z")
    assert rows["K-5041"][1] == "Snåase - Snåsa"
    assert rows["K-5426"][1:2] + rows["K-5426"][8:9] == ("Gáivuotna - Kåfjord - Kaivuono", 2012)
    assert rows["K-21-22"][1] == "Svalbard og Jan Mayen"
    assert rows["K-Rest"][1] == "Delte kommuner og uoppgitt"
    # The file has no `status` at all; the whole country on 1 January 2022.
    assert {r[9] for r in rows.values()} == {None}
    assert sum(r[8] for r in rows.values()) == 5_425_270
    # Order is the file's category.index order, not sorted.
    assert list(rows)[:3] == ["K-3001", "K-3002", "K-3003"]
    assert list(rows)[51] == "K-0301"


# -- shapes from the specification ----------------------------------------------------------------

def test_value_as_sparse_object():
    d = decode(doc(["A", "B"], {"A": ["a1", "a2"], "B": ["b1", "b2"]}, {"0": 1.5, "3": 4}))
    assert [r[4] for r in d.rows()] == [1.5, None, None, 4]


@pytest.mark.parametrize("key", ["-1", "4", "x", "1.0"])
def test_sparse_value_key_outside_the_table_is_an_error(key):
    with pytest.raises(JsonStatError, match=rf"value has key '{key}'.*0\.\.3"):
        decode(doc(["A", "B"], {"A": ["a1", "a2"], "B": ["b1", "b2"]}, {key: 1}))


@pytest.mark.parametrize(("status", "expected"), [
    ({"1": "..", "3": ":"}, [None, "..", None, ":"]),           # object keyed by flat index
    ([None, "..", None, ":"], [None, "..", None, ":"]),         # array, one per cell
    (["e"], ["e", "e", "e", "e"]),                              # array of one: every cell
    ("p", ["p", "p", "p", "p"]),                                # string: every cell
    ([".", ":"], [".", ":", None, None]),                       # short array: rest has none
    (None, [None, None, None, None]),
])
def test_status_shapes(status, expected):
    document = doc(["A", "B"], {"A": ["a1", "a2"], "B": ["b1", "b2"]}, [1, None, 3, None])
    if status is not None:
        document["status"] = status
    rows = list(decode(document).rows())
    assert [r[5] for r in rows] == expected
    assert [r[4] for r in rows] == [1, None, 3, None]


def test_status_key_outside_the_table_is_an_error():
    document = doc(["A"], {"A": ["a1", "a2"]}, [1, 2], status={"2": ".."})
    with pytest.raises(JsonStatError, match=r"status has key '2'"):
        decode(document)


def test_category_index_as_array_keeps_its_order():
    document = doc(["A", "B"], {"A": ["x"], "B": ["b", "a", "c"]}, [10, 20, 30])
    document["dimension"]["B"]["category"]["index"] = ["b", "a", "c"]
    rows = list(decode(document).rows())
    assert [(r[2], r[3], r[4]) for r in rows] == [("b", "b label", 10), ("a", "a label", 20),
                                                  ("c", "c label", 30)]


def test_category_index_object_is_ordered_by_position_not_by_key_order():
    document = doc(["B"], {"B": ["a", "b"]}, [1, 2])
    document["dimension"]["B"]["category"]["index"] = {"b": 1, "a": 0}
    assert [(r[0], r[2]) for r in decode(document).rows()] == [("a", 1), ("b", 2)]


def test_category_without_index_but_one_label():
    document = doc(["C"], {"C": ["only"]}, [7])
    del document["dimension"]["C"]["category"]["index"]
    assert list(decode(document).rows()) == [("only", "only label", 7, None,
                                              "2026-01-01T00:00:00Z")]


def test_category_index_with_gaps_is_an_error():
    document = doc(["B"], {"B": ["a", "b"]}, [1, 2])
    document["dimension"]["B"]["category"]["index"] = {"a": 0, "b": 2}
    with pytest.raises(JsonStatError, match=r"dimension 'B'.*positions are not 0\.\.1"):
        decode(document)


@pytest.mark.parametrize("sizes", [(2, 3), (2, 3, 4), (1, 5, 1, 3), (3, 1), (4, 2, 3, 2, 2)])
def test_row_major_order(sizes):
    """The cell at codes (i, j, k, ...) holds the flat row-major index; every row must agree."""
    ids = [f"D{n}" for n in range(len(sizes))]
    categories = {i: [f"{i}c{k}" for k in range(s)] for i, s in zip(ids, sizes)}
    total = 1
    for s in sizes:
        total *= s
    rows = list(decode(doc(ids, categories, list(range(total)))).rows())
    assert len(rows) == total
    for row, position in zip(rows, product(*(range(s) for s in sizes))):
        assert [row[2 * n] for n in range(len(sizes))] == [
            f"{i}c{k}" for i, k in zip(ids, position)]
        flat = 0
        for k, s in zip(position, sizes):
            flat = flat * s + k
        assert row[2 * len(sizes)] == flat


def test_metric_dimension_gives_unit_and_decimals():
    document = doc(["ContentsCode", "Tid"], {"ContentsCode": ["Andel", "Antall"],
                                             "Tid": ["2024", "2025"]}, [12.5, 13.25, 40, 41])
    document["role"] = {"metric": ["ContentsCode"], "time": ["Tid"]}
    document["dimension"]["ContentsCode"]["category"]["unit"] = {
        "Andel": {"base": "prosent", "decimals": 1}}  # Antall has no unit entry
    d = decode(document)
    assert d.columns == ["contentscode", "contentscode_label", "unit", "decimals", "tid",
                         "tid_label", "value", "status", "updated"]
    assert [r[:4] + r[6:7] for r in d.rows()] == [
        ("Andel", "Andel label", "prosent", 1, 12.5), ("Andel", "Andel label", "prosent", 1, 13.25),
        ("Antall", "Antall label", None, None, 40), ("Antall", "Antall label", None, None, 41)]


def test_narrow_rows_hold_codes_and_dimension_tables_the_labels():
    document = doc(["ContentsCode", "Tid"], {"ContentsCode": ["Andel", "Antall"],
                                             "Tid": ["2024", "2025"]}, [12.5, None, 40, 41])
    document["role"] = {"metric": ["ContentsCode"], "time": ["Tid"]}
    document["status"] = {"1": ".."}
    document["updated"] = "2026-03-01T07:00:00Z"
    document["dimension"]["ContentsCode"]["category"]["unit"] = {
        "Andel": {"base": "prosent", "decimals": 1}}
    d = decode(document)
    assert d.fact_columns == ["contentscode", "tid", "value", "status"]
    assert list(d.fact_rows()) == [("Andel", "2024", 12.5, None), ("Andel", "2025", None, ".."),
                                   ("Antall", "2024", 40, None), ("Antall", "2025", 41, None)]
    tables = {dim.column: (columns, rows) for dim, columns, rows in d.dimension_tables()}
    assert tables["contentscode"] == (
        ["code", "label", "unit", "decimals", "updated"],
        [("Andel", "Andel label", "prosent", 1, "2026-03-01T07:00:00Z"),
         ("Antall", "Antall label", None, None, "2026-03-01T07:00:00Z")])
    assert tables["tid"] == (["code", "label"], [("2024", "2024 label"), ("2025", "2025 label")])


def test_without_a_metric_dimension_updated_stays_on_the_cells():
    document = doc(["Tid"], {"Tid": ["2024"]}, [7])
    document["updated"] = "2026-03-01T07:00:00Z"
    d = decode(document)
    assert d.fact_columns == ["tid", "value", "status", "updated"]
    assert list(d.fact_rows()) == [("2024", 7, None, "2026-03-01T07:00:00Z")]


def test_size_that_disagrees_with_the_index_is_an_error():
    document = doc(["A", "B"], {"A": ["a1", "a2"], "B": ["b1"]}, [1, 2])
    document["size"] = [3, 1]
    with pytest.raises(JsonStatError, match=r"dimension 'A': size says 3 categories, index has 2"):
        decode(document)


def test_size_list_that_does_not_match_the_ids_is_an_error():
    document = doc(["A", "B"], {"A": ["a1", "a2"], "B": ["b1"]}, [1, 2])
    document["size"] = [2]
    with pytest.raises(JsonStatError, match=r"'size' \[2\] does not give one size per dimension"):
        decode(document)


def test_value_array_of_the_wrong_length_is_an_error():
    with pytest.raises(JsonStatError, match=r"value has 3 cells, dimensions give 4"):
        decode(doc(["A", "B"], {"A": ["a1", "a2"], "B": ["b1", "b2"]}, [1, 2, 3]))


def test_not_a_dataset():
    with pytest.raises(JsonStatError, match="class must be 'dataset'"):
        decode({"class": "collection", "link": {}})
    with pytest.raises(JsonStatError, match="not JSON"):
        decode(b"<html>503</html>")
    with pytest.raises(JsonStatError, match="dimension 'B' listed in 'id' is missing"):
        document = doc(["A"], {"A": ["a1"]}, [1])
        document["id"] = ["A", "B"]
        document["size"] = [1, 1]
        decode(document)


def test_bytes_str_and_dict_decode_alike():
    document = doc(["A"], {"A": ["a1", "a2"]}, [1, None], status={"1": ":"})
    text = json.dumps(document)
    assert (list(decode(document).rows()) == list(decode(text).rows())
            == list(decode(text.encode()).rows()))


def test_column_names():
    assert column_name("ContentsCode") == "contentscode"
    assert column_name("KOKkommuneregion0000") == "kokkommuneregion0000"
    assert column_name("Region (kommune)") == "region_kommune"
    assert column_name("Kjønn") == "kj_nn"
    assert column_name("---") == "dim"
