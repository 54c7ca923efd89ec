"""The worksheet reader (atlas_crawl.formats.worksheet) gives what openpyxl's own read-only
``iter_rows(values_only=True)`` gives: on every workbook the project keeps (every sheet, every
cell, value and type), on a hand-written sheet holding every kind of cell, and it refuses unsafe
XML in one line naming the file and the part."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from conftest import GOLDEN_DIR, TEST_DATA
from openpyxl import load_workbook

from atlas_crawl.formats.excel import open_workbook, sheet_rows
from atlas_crawl.formats.worksheet import SheetXmlError, iter_rows

pytestmark = pytest.mark.filterwarnings("ignore:Workbook contains no default style")


def _is_workbook(data: bytes) -> bool:
    if data[:2] != b"PK":
        return False
    try:
        return "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile:
        return False


def kept_workbooks() -> dict[str, bytes]:
    """Every workbook in golden/*/responses and tests/data, and every workbook inside a ZIP
    there (Bufdir's bundles), by its path (``bundle.zip!member.xlsx`` for those)."""
    found = {}
    for root in (GOLDEN_DIR, TEST_DATA):
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix.lower() not in (".xlsx", ".xlsm", ".zip"):
                continue
            name = str(path.relative_to(GOLDEN_DIR.parent))
            data = path.read_bytes()
            if _is_workbook(data):
                found[name] = data
            elif data[:2] == b"PK":
                with zipfile.ZipFile(io.BytesIO(data)) as bundle:
                    for member in bundle.namelist():
                        inner = bundle.read(member)
                        if _is_workbook(inner):
                            found[f"{name}!{member}"] = inner
    return found


KEPT = kept_workbooks()


def typed(rows) -> list[list[tuple[type, object]]]:
    return [[(type(v), v) for v in row] for row in rows]


def openpyxl_rows(ws) -> list[tuple]:
    # openpyxl gives a row never written as [] (a list); the reader gives () like every other
    # row, as sheet_rows promises. The values are the same.
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


def test_the_kept_workbooks_are_all_found():
    assert len(KEPT) >= 30
    assert any(name.endswith("Tidsserie nedsatt arbeidsevne TFK - 2011-2024.xlsx")
               for name in KEPT)
    assert any("!1A_andel_ant_barn_tiltak_ilaaret_ialt_0_17.xlsx" in name for name in KEPT)
    assert any(name.startswith("tests/data/") for name in KEPT)


@pytest.mark.parametrize("name", sorted(KEPT))
def test_every_cell_of_a_kept_workbook_is_what_openpyxl_reads(name):
    wb = open_workbook(KEPT[name], file=name)
    try:
        cells = 0
        for ws in wb.worksheets:
            ours = sheet_rows(ws)
            assert all(type(row) is tuple for row in ours)
            assert typed(ours) == typed(openpyxl_rows(ws)), f"{name}, sheet {ws.title!r}"
            cells += sum(v is not None for row in ours for v in row)
        assert cells > 0
    finally:
        wb.close()


# --- a hand-written workbook with every kind of cell ---------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"

STYLES = f"""<styleSheet xmlns="{MAIN}">
<numFmts count="1"><numFmt numFmtId="164" formatCode="[h]:mm:ss"/></numFmts>
<fonts count="1"><font><sz val="11"/></font></fonts>
<fills count="1"><fill><patternFill patternType="none"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf/></cellStyleXfs>
<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="21"/><xf numFmtId="164"/>
<xf numFmtId="4"/></cellXfs></styleSheet>"""

STRINGS = f"""<sst xmlns="{MAIN}"><si><t>Bamble</t></si>
<si><r><rPr><b/></rPr><t>Rik</t></r><r><t xml:space="preserve"> tekst</t></r></si>
<si><t xml:space="preserve">  Hele landet </t></si></sst>"""

# The <dimension> is stale (A1:B2): every row and column written is read all the same.
SHEET = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="{MAIN}"><dimension ref="A1:B2"/><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>
 <c r="C1" t="inlineStr"><is><t>Inline</t></is></c>
 <c r="D1" t="inlineStr"><is><r><t>Ri</t></r><r><t>ch</t></r></is></c>
 <c r="E1" t="str"><f>A1&amp;"x"</f><v>Bamblex</v></c><c r="F1" t="e"><v>#N/A</v></c>
 <c r="G1" t="b"><v>1</v></c><c r="H1" t="b"><v>0</v></c><c r="I1" t="s"><v>2</v></c></row>
<row r="2"><c r="A2"><v>42</v></c><c r="B2" t="n"><v>4.5</v></c><c r="C2"><v>1E3</v></c>
 <c r="D2" s="1"><v>45000</v></c><c r="E2" s="2"><v>0.5</v></c><c r="F2" s="3"><v>1.25</v></c>
 <c r="G2"><f>1+1</f><v>2</v></c><c r="H2"><f>X1</f></c><c r="I2"><v/></c>
 <c r="J2"><v> 7 </v></c><c r="K2" s="4"><v>1234.5</v></c><c r="L2" s="1"><v>9999999999</v></c>
 <c r="M2" t="d"><v>2024-05-17T10:30:00</v></c><c r="N2"><v>1<!-- split -->2</v></c>
 <c r="O2"><v><![CDATA[3]]></v></c><c r="P2" t="str"><v>A &amp; B</v></c><c r="Q2" s="1"/></row>
<row r="4"><c><v>1</v></c><c><v>2</v></c><c r="E4"><v>5</v></c><c><v>6</v></c></row>
<row r="5"><c r="C5"><v>3</v></c><c r="A5"><v>1</v></c></row>
<row><c r="b6" t="str"><v>lower-case reference</v></c></row>
<row r="6"><c r="A6"><v>99</v></c></row>
<row r="3"><c r="A3"><v>98</v></c></row>
<row r="8"/>
<row r="9.0"><c r="AA9"><v>-0.25</v></c></row>
</sheetData></worksheet>"""


def workbook(sheet: str = SHEET, *, date1904: bool = False) -> bytes:
    pr = '<workbookPr date1904="1"/>' if date1904 else ""
    parts = {
        "[Content_Types].xml": f"""<Types xmlns="{CT}">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>""",
        "_rels/.rels": f"""<Relationships xmlns="{PKG}">
<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>""",
        "xl/workbook.xml": f"""<workbook xmlns="{MAIN}" xmlns:r="{REL}">{pr}
<sheets><sheet name="Alt" sheetId="1" r:id="rId1"/></sheets></workbook>""",
        "xl/_rels/workbook.xml.rels": f"""<Relationships xmlns="{PKG}">
<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{REL}/styles" Target="styles.xml"/>
<Relationship Id="rId3" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>""",
        "xl/styles.xml": STYLES,
        "xl/sharedStrings.xml": STRINGS,
        "xl/worksheets/sheet1.xml": sheet,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text.encode())
    return out.getvalue()


@pytest.mark.parametrize("date1904", [False, True], ids=["1900", "1904"])
def test_every_kind_of_cell_is_read_as_openpyxl_reads_it(date1904):
    wb = open_workbook(workbook(date1904=date1904), file="alt.xlsx")
    ws = wb["Alt"]
    with pytest.warns(UserWarning, match="Cell L2 is marked as a date"):
        ours = sheet_rows(ws)
    with pytest.warns(UserWarning, match="Cell L2 is marked as a date"):
        theirs = openpyxl_rows(ws)
    assert typed(ours) == typed(theirs)

    day = dt.datetime(2027, 3, 16) if date1904 else dt.datetime(2023, 3, 15)  # serial 45000
    assert ours[0] == ("Bamble", "Rik tekst", "Inline", "Rich", "Bamblex", "#N/A", True, False,
                       "  Hele landet ")
    assert ours[1] == (42, 4.5, 1000.0, day, dt.time(12), dt.timedelta(days=1.25), 2, None,
                       None, 7, 1234.5, "#VALUE!", dt.datetime(2024, 5, 17, 10, 30), 12, 3,
                       "A & B", None)
    assert [type(v) for v in ours[1][:3]] == [int, float, float]
    assert ours[2] == ()  # row 3 was never written before row 4 (the later r="3" is skipped)
    assert ours[3] == (1, 2, None, None, 5, 6)  # cells without r="" follow the one before
    assert ours[4] == (1,)  # as wide as its last cell: C5, written first, falls outside
    assert ours[5] == (None, "lower-case reference")  # a <row> without r="" is the next one
    assert ours[6:8] == [(), ()]  # row 6 again is skipped; 7 never written; 8 empty
    assert ours[8] == (None,) * 26 + (-0.25,)  # r="9.0" is row 9; AA is column 27
    assert len(ours) == 9
    wb.close()


# --- refusals ---------------------------------------------------------------------------------

ENTITY = ('<!DOCTYPE worksheet [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>')


def with_sheet(text: str) -> bytes:
    return workbook(SHEET.replace('<worksheet ', f"{text}<worksheet ", 1))


def test_a_worksheet_declaring_entities_is_refused_in_one_line_naming_file_and_part():
    data = with_sheet(ENTITY).replace(b"<v>Bamblex</v>", b"<v>&lol2;</v>")
    with pytest.raises(SheetXmlError) as refused:
        open_workbook(data, file="hostile.xlsx")
    message = str(refused.value)
    assert message == ("hostile.xlsx: part xl/worksheets/sheet1.xml declares a DOCTYPE; a "
                       "workbook never needs one and its entities are not read: refused")
    assert "\n" not in message


def test_a_doctype_is_refused_when_the_rows_are_read_too():
    # Opened past open_workbook's check (openpyxl alone lets a DOCTYPE without entities by),
    # the reader itself still refuses the part before using any of its rows.
    wb = load_workbook(io.BytesIO(with_sheet("<!DOCTYPE worksheet>")), read_only=True)
    with pytest.raises(SheetXmlError, match=r"^plain.xlsx: worksheet part "
                                            r"xl/worksheets/sheet1.xml \(sheet 'Alt'\) declares "
                                            r"a DOCTYPE \(<!DOCTYPE worksheet>\).*: refused$"):
        list(iter_rows(wb["Alt"], file="plain.xlsx"))
    wb.close()


def test_a_worksheet_that_is_not_well_formed_is_refused_naming_the_part():
    wb = open_workbook(workbook(SHEET.replace("</row>\n<row r=\"4\">", "\n<row r=\"4\">")),
                       file="broken.xlsx")
    with pytest.raises(SheetXmlError, match=r"^broken.xlsx: worksheet part "
                                            r"xl/worksheets/sheet1.xml \(sheet 'Alt'\) is not "
                                            r"well-formed XML \(.*line \d+.*\); refused$"):
        sheet_rows(wb["Alt"])
    wb.close()


@pytest.mark.filterwarnings("ignore:Cell L2 is marked as a date")
def test_a_row_past_excels_last_row_is_refused_not_padded():
    # Two billion empty rows ahead of one cell: a tiny file, and openpyxl would fill them all.
    wb = open_workbook(workbook(SHEET.replace('<row r="8"/>', '<row r="2000000000"/>')),
                       file="far.xlsx")
    with pytest.raises(SheetXmlError, match=r"^far.xlsx: worksheet part .*: row number "
                                            r"2,000,000,000 is past Excel's last row "
                                            r"\(1,048,576\); refused$"):
        sheet_rows(wb["Alt"])
    wb.close()
