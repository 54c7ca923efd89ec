"""IMDi's integration exports, read by one reader: all 105 real exports of
tests/data/imdi_integrering/ (and the two in the older golden folders) parse, their header shapes,
units, symbols, encodings and codes, with values read from the files by eye."""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from functools import cache

import pytest

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import imdi_export as ie

DATA = PROJECT_DIR / "tests" / "data" / "imdi_integrering"
SERIES = DATA / "befolkning_1986_2015.zip"


@cache
def real_exports() -> dict[str, bytes]:
    """Every real export in the project, by file name."""
    found = {p.name: p.read_bytes() for p in sorted(DATA.glob("*/*.csv"))}
    with zipfile.ZipFile(SERIES) as archive:
        found.update({i.filename.rsplit("/", 1)[-1]: archive.read(i) for i in archive.infolist()})
    return found


@cache
def read(name: str) -> ie.Export:
    return ie.read_export(real_exports()[name], name)


def cells(export: ie.Export, code: str, variable: str, breakdown: str = "", unit: str = ""):
    return [(r.value, r.status) for r in export.rows if r.code == code
            and r.column.variable == variable and r.column.breakdown == breakdown
            and (not unit or r.column.unit == unit)]


def test_the_project_holds_all_105_exports():
    names = real_exports()
    assert len(names) == 105
    geographies = Counter(ie.parse_name(n).geography for n in names)
    assert geographies == {"kommune": 44 + 29, "bydel": 32}


@pytest.mark.parametrize("name", sorted(real_exports()))
def test_every_real_export_is_read(name):
    meta = ie.parse_name(name)
    assert meta is not None
    export = read(name)
    assert export.geography == meta.geography
    assert export.rows and export.columns
    assert {r.level for r in export.rows} <= {"kommune", "bydel"}
    assert all(len(r.code) == (4 if r.level == "kommune" else 6) for r in export.rows)
    assert all((r.value is None) != (r.status is None) for r in export.rows)


def test_units_the_family_uses():
    units = Counter(c.unit for name in real_exports() for c in read(name).columns)
    assert set(units) == {"personer", "prosent", "promille", "kroner", "gjennomsnitt"}


def test_symbols_the_family_uses_and_nothing_else():
    statuses = Counter(r.status for name in real_exports() for r in read(name).rows if r.status)
    # header tokens IMDi wrote into three cells of every 25th row of the 51 kommune export
    assert statuses["kjonn.alle"] == statuses["enhet.prosent"] == 17
    assert statuses["avsluttning_arsak_3.annet"] == 17
    assert set(statuses) == {":", ".", "-", "kjonn.alle", "enhet.prosent",
                             "avsluttning_arsak_3.annet"}


def test_settlement_of_refugees_halden_2014():
    # "0101 Halden;101;Halden;35;100;22;62,86;21;60,00" (two header rows, the unit in the
    # "Nedbrytninger" row, eight unnamed empty columns after the six named ones)
    export = read("09_1-bosatt_anmodede-kommune-2014.csv")
    assert export.header_rows == 2 and export.skipped_columns == tuple(range(10, 18))
    assert cells(export, "0101", "bosetting.anmodning", unit="personer") == [(35, None)]
    assert cells(export, "0101", "bosetting.bosatt", unit="prosent") == [(62.86, None)]
    assert cells(export, "0101", "bosetting.vedtak", unit="prosent") == [(60.0, None)]
    # Aremark: "15;100;0;0;.;." - nothing decided: not applicable, no value
    assert cells(export, "0118", "bosetting.vedtak", unit="prosent") == [(None, ".")]


def test_population_series_has_each_years_codes_and_real_counts():
    y1987 = read("01-befolkning_hovedgruppe-kommune-1987.csv")
    assert y1987.header_rows == 3  # every field quoted; "Kommune\r\nnavn" spans two lines
    assert cells(y1987, "0101", "innvkat_5.alle", "kjonn.alle", "personer") == [(25807, None)]
    assert cells(y1987, "0301", "innvkat_5.innvandrere", "kjonn.alle", "personer") == [
        (36614, None)]
    assert cells(y1987, "1017", "innvkat_5.alle", "kjonn.alle", "personer") == [(4879, None)]
    assert cells(y1987, "1018", "innvkat_5.alle", "kjonn.alle", "personer") == [(7028, None)]
    # SSB's perturbation of small counts: Aurland 1987, men, Norwegian-born to immigrant parents
    assert cells(y1987, "1421", "innvkat_5.norskfodte_m_innvf", "kjonn.1", "personer") == [
        (-2, None)]
    # 0105 Sarpsborg was made in 1992: IMDi lists it in 1987 with 0 persons and '.' shares
    assert cells(y1987, "0105", "innvkat_5.alle", "kjonn.alle", "personer") == [(0, None)]
    assert cells(y1987, "0105", "innvkat_5.alle", "kjonn.alle", "prosent") == [(None, ".")]
    y2015 = read("01-befolkning_hovedgruppe-kommune-2015.csv")
    assert cells(y2015, "1001", "innvkat_5.alle", "kjonn.alle", "personer") == [(87446, None)]


def test_thousands_space_and_decimal_comma():
    income = read("90-gjennomsnittsinntekt-bydel-2013.csv")  # "0301 Oslo;301;Oslo kommune;341 500"
    assert cells(income, "0301", "innvkat_3.alle", "vreg_3.alle", "kroner") == [(341500, None)]
    assert cells(income, "030101", "innvkat_3.alle", "vreg_3.alle", "kroner") == [(304200, None)]
    grants = read("93-tilskudd-kommune-2014.csv")
    assert cells(grants, "0101", "tilskudd_til_kommuner.totalt") == [(15282886, None)]
    assert read("09_3-bosatt_befolkning-kommune-2014.csv").rows[-1][:3] == (
        "2030", "kommune", "Sør-Varanger")
    assert cells(read("09_3-bosatt_befolkning-kommune-2014.csv"), "2030",
                 "bosetting.bosatt_per_1000") == [(3.33, None)]


def test_suppression_in_its_spellings():
    work = read("60-sysselsatte_innvandringsgrunn-kommune-2013.csv")  # " : "
    assert Counter(r.status for r in work.rows)[":"] > 1000
    welfare = read("92-sosialhjelp-bydel-2013.csv")  # "       :" in Ullern, blank rows after
    assert cells(welfare, "030106", "innvkat_5.norskfodte_m_innvf", "kjonn.alle",
                 "personer") == [(None, ":")]
    assert len({r.code for r in welfare.rows}) == 19


def test_bydel_export_codes_and_dos_code_page():
    regions = read("02-befolkning_verdensregion-bydel-2014.csv")
    assert regions.encoding == "cp865"
    places = {r.code: (r.level, r.name) for r in regions.rows}
    assert places["0301"] == ("kommune", "Oslo")  # the city's own row, "301"
    assert places["030102"] == ("bydel", "Grünerløkka")  # "30102", "Gr\x81nerl\x9bkka"
    assert len(places) == 19
    # three groupings of world region in one export, as variables
    assert {c.variable.split(".")[0] for c in regions.columns} == {"vreg_2", "vreg_5", "vreg_9"}
    assert read("04-befolkning_alder-bydel-2014.csv").encoding == "cp1252"


def test_header_shapes():
    ages = read("04-befolkning_alder-kommune-2014.csv")
    assert ages.header_rows == 4
    column = ages.columns[6]
    assert (column.variable, column.breakdowns, column.unit) == (
        "innvkat_3.alle", ("alder_grupper.67+", "kjonn.alle"), "personer")
    # the code column named in the second header row, not the first
    status = read("53-intro_status_arbutd-kommune-2013.csv")
    assert status.header_rows == 4 and status.geography == "kommune"
    assert len({r.code for r in status.rows}) == 428  # the codeless row after 2030 is skipped
    # five header rows; the all-groups columns repeated in each block are read once
    points = read("31-grunnskolepoeng-bydel-2013.csv")
    assert points.header_rows == 5 and len(points.columns) == 48
    assert points.skipped_columns == (28, 31, 34, 37, 40, 43, 46, 49, 52, 55, 58, 61)
    assert cells(points, "030104", "innvkat_4.innvandrere", "vreg_3.alle, kjonn.1, "
                 "invalder_3.alle", "gjennomsnitt") == [(30.2, None)]  # ':' in the repeats
    assert cells(points, "030199", "innvkat_4.alle", "vreg_3.alle, kjonn.alle, invalder_3.alle",
                 "gjennomsnitt") == [(27.1, None)]
    assert Counter(r.status for r in points.rows)["-"] == 10
    # a column with only NA and blanks carries no variable
    tests = read("40-norsk_prover-kommune-2014.csv")
    assert tests.skipped_columns == (48,)
    # a header written twice (bosetting.vedtak / prosent, columns 5 and 7)
    assert read("09_2-bosatt_vedtak-bydel-2014.csv").skipped_columns == (7,)


def test_header_token_in_a_data_cell_is_kept_as_status_not_guessed():
    export = read("51-intro_avslutning_direkte-kommune-2014.csv")
    bergen = [r for r in export.rows if r.code == "1201" and r.column.number == 23]
    assert [(r.value, r.status) for r in bergen] == [(None, "kjonn.alle")]


def test_period_and_kind_from_the_file_name():
    assert ie.parse_name("34-videregaende_fullfort-kommune-2011_2013.csv") == (
        "34-videregaende_fullfort", "kommune", 2011, 2013)
    assert ie.parse_name("34-videregaende_fullfort-kommune-2011_2013.csv").period == "2011-2013"
    assert ie.parse_name("09_1-bosatt_anmodede-bydel-2014_EXCERPT.csv").period == "2014"
    assert ie.parse_name("notes.csv") is None


def test_codes_get_their_leading_zero_back():
    assert ie.restore_code("101") == ("0101", "kommune")
    assert ie.restore_code("9999") == ("9999", "kommune")
    assert ie.restore_code("30101") == ("030101", "bydel")
    assert ie.restore_code("1201011") is None and ie.restore_code("") is None


HEAD = ("Kommune nr & navn;kommune_nr;\"Kommune\r\nnavn\";x.a;x.b\r\n"
        "Nedbrytninger;;;kjonn.alle;kjonn.alle\r\n;;;enhet.personer;enhet.personer\r\n")


@pytest.mark.parametrize(("body", "message"), [
    ("0101 Halden;101;Halden;1;2\r\n0104 Moss;104;Moss;3\r\n",
     r"^f\.csv: line 6: 4 fields, the header has 5$"),
    ("0101 Halden;101;Halden;1;tolv\r\n",
     r"^f\.csv: line 5, column 5 \(x\.b, kjonn\.alle\): not a number or a known symbol: 'tolv'$"),
    ("0101 Halden;101x;Halden;1;2\r\n",
     r"^f\.csv: no header rows followed by place rows"),
    ("0101 Halden;1234567;Halden;1;2\r\n",
     r"^f\.csv: line 5, column 2 \(kommune_nr\): expected a kommune or bydel number"),
])
def test_errors_name_file_line_and_column_in_one_line(body, message):
    with pytest.raises(ie.ImdiExportError, match=message):
        ie.read_export((HEAD + body).encode("latin-1"), "f.csv")


def test_header_and_column_errors():
    with pytest.raises(ie.ImdiExportError, match=r"^f\.csv: line 1, column 2: expected "
                       r"'kommune_nr' or 'bydel_nr'"):
        ie.read_export(b"a;b;c;x.a\r\n0101;101;Halden;1\r\n", "f.csv")
    with pytest.raises(ie.ImdiExportError, match=r"^f\.csv: line 1, column 5: expected a header "
                       r"token 'dimension\.value', found 'Sum'"):
        ie.read_export(b"k;kommune_nr;n;x.a;Sum\r\n0101;101;Halden;1;2\r\n", "f.csv")
    with pytest.raises(ie.ImdiExportError, match=r"^f\.csv: line 2, column 5: a value \('7'\) "
                       r"in a column with no header$"):
        ie.read_export(b"k;kommune_nr;n;x.a;\r\n0101;101;Halden;1;7\r\n", "f.csv")
    with pytest.raises(ie.ImdiExportError, match=r"^f\.csv: line 2, column 5: '7', but the "
                       r"column has the header of column 4, which holds '1'$"):
        ie.read_export(b"k;kommune_nr;n;x.a;x.a\r\n0101;101;Halden;1;7\r\n", "f.csv")


def test_a_zip_of_exports_gives_every_csv_in_name_order():
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as archive:
        archive.writestr("b/93-tilskudd-kommune-2012.csv", b"2")
        archive.writestr("93-tilskudd-kommune-2011.csv", b"1")
        archive.writestr("readme.txt", b"not an export")
    files = ie.export_files(raw.getvalue(), "grants.zip")
    assert files == [("grants.zip!93-tilskudd-kommune-2011.csv", b"1"),
                     ("grants.zip!93-tilskudd-kommune-2012.csv", b"2")]
    assert ie.export_files(b"a;b", "x.csv") == [("x.csv", b"a;b")]
    with pytest.raises(ie.ImdiExportError, match=r"^bad\.zip: not a readable zip"):
        ie.export_files(b"PK\x03\x04 broken", "bad.zip")
