"""The geography pipeline: resolve() over a batch's place columns, quarantine what cannot be placed."""

from atlas_crawl.items import Batch, Provenance
from atlas_crawl.pipelines.geography import SUFFIXES, place_column


def batch(columns, rows):
    return Batch(source_id="test_geo", columns=list(columns), rows=list(rows), key=[columns[0]],
                 provenance=Provenance("https://example.test/x", "0" * 64, "2026-01-01T00:00:00Z"))


def test_adds_four_columns_per_place_column():
    b = batch(["region", "tid", "value"], [
        ("K-3001", "2022", 1.0), ("0104", "2019", 2.0), ("1850", "2019", 3.0),
        ("Hele landet", "2022", 4.0), ("9999", "2022", 5.0), ("2100", "2022", 6.0),
    ])
    place_column(b, "region", on="tid")
    assert b.columns == ["region", "tid", "value", *("region" + s for s in SUFFIXES)]
    assert [r[3:] for r in b.rows] == [
        ("3001", "3101", "kommune", "aggregate"),
        ("0104", "3103", "kommune", "merged"),
        ("1850", None, "kommune", "split"),
        ("0", "0", "land", "aggregate"),
        ("9999", "9999", "kommune", "unknown"),
        ("2100", "2100", "special", "special"),
    ]
    assert b.quarantine == []


def test_on_column_changes_the_answer():
    b = batch(["region", "year"], [("5001", 2019), ("5001", 2024)])
    place_column(b, "region", on="year")
    assert [r[-1] for r in b.rows] == ["merged", "exact"]  # Klæbu joined Trondheim in 2020


def test_unplaceable_rows_go_to_quarantine_with_a_reason():
    b = batch(["name", "fylke", "value"], [
        ("Herøy", None, 1), ("Herøy", "Nordland", 2), ("Atlantis", None, 3), ("Bærum ", None, 4),
    ])
    place_column(b, "name", within="fylke", level="kommune")
    assert [(r[0], r[3]) for r in b.rows] == [("Herøy", "1818"), ("Bærum ", "3201")]
    assert [(q.column, q.raw_value) for q in b.quarantine] == [("name", "Herøy"),
                                                             ("name", "Atlantis")]
    herøy, atlantis = b.quarantine
    assert herøy.reason.startswith("name 'Herøy': 'Herøy' names 2 places (1515 Herøy (Møre og "
                                   "Romsdal), 1818 Herøy (Nordland))")
    assert atlantis.reason == ("name 'Atlantis': no fylke, kommune or bydel in the snapshot is "
                               "called 'Atlantis'")
    assert herøy.row == {"name": "Herøy", "fylke": None, "value": 1}


def test_declared_level_picks_the_fylke_named_oslo():
    b = batch(["fylke"], [("Oslo",)])
    place_column(b, "fylke", level="fylke")
    assert b.rows == [("Oslo", "03", "03", "fylke", "exact")]


def test_a_row_level_column_says_which_level_a_shared_name_means():
    # IMDi's fylke summary and its kommune tables both say "Oslo"; NAV's rollup "I alt Ukjent"
    # sits among the fylker but is NAV's unknown kommune bucket: the row's level is a preference
    # between places sharing a name, not a filter
    b = batch(["name", "level"], [
        ("Oslo", "fylke"), ("Oslo", "kommune"), ("Ukjent", "fylke"), ("Landet", "national"),
        ("Oslo", None),
    ])
    place_column(b, "name", row_level="level")
    assert [r[2:] for r in b.rows] == [
        ("03", "03", "fylke", "exact"),
        ("0301", "0301", "kommune", "exact"),
        ("9999", "9999", "kommune", "unknown"),
        ("0", "0", "land", "aggregate"),
        ("0301", "0301", "kommune", "exact"),  # no level given: a kommune, as without the column
    ]
    # a row level that is none of fylke, kommune, bydel leaves the declared level to choose
    b = batch(["name", "level"], [("Oslo", "national"), ("Oslo", "kommune")])
    place_column(b, "name", row_level="level", level="fylke")
    assert [r[2] for r in b.rows] == ["03", "0301"]
    assert b.quarantine == []


def test_a_parent_that_does_not_tell_the_places_apart_is_left_out_only_when_declared():
    rows = [("Herøy", "Nordland"), ("Bærum", "Atlantis"), ("Bamble", "Nordland"),
            ("Herøy", "Vestland")]
    strict = batch(["name", "fylke"], rows)
    place_column(strict, "name", within="fylke")
    assert [r[2] for r in strict.rows] == ["1818"]
    assert [q.reason for q in strict.quarantine] == [
        ("name 'Bærum': the parent given to tell places apart, 'Atlantis', is not a known place "
         "(no fylke, kommune or bydel in the snapshot is called 'Atlantis')"),
        "name 'Bamble': no place called 'Bamble' lies in Nordland - Nordlánnda (18)",
        "name 'Herøy': no place called 'Herøy' lies in Vestland (46)",
    ]

    helped = batch(["name", "fylke"], rows)
    place_column(helped, "name", within="fylke", within_if_it_helps=True)
    # a name that is one place on its own is placed; the parent still chooses where it can
    assert [(r[0], r[2]) for r in helped.rows] == [("Herøy", "1818"), ("Bærum", "3201"),
                                                   ("Bamble", "4012")]
    (herøy,) = helped.quarantine
    assert herøy.reason == (
        "name 'Herøy': no place called 'Herøy' lies in Vestland (46); 'Herøy' names 2 places "
        "(1515 Herøy (Møre og Romsdal), 1818 Herøy (Nordland)); give within= a fylke (or "
        "kommune) to choose")
    assert herøy.row == {"name": "Herøy", "fylke": "Vestland"}


def test_a_bad_on_value_is_quarantined_not_raised():
    b = batch(["region", "year"], [("0301", "sometime")])
    place_column(b, "region", on="year")
    assert b.rows == []
    assert b.quarantine[0].reason == "region: cannot read a date or year from on='sometime'"


def test_a_register_keeps_a_row_it_cannot_place_when_the_manifest_says_so():
    from atlas_crawl.items import Batch, Provenance
    from atlas_crawl.pipelines.geography import place_column

    def batch():
        return Batch(source_id="brreg_enheter", columns=["orgnr", "kommunenummer"],
                     rows=[("910000001", "0301"), ("910000002", "7777")], key=["orgnr"],
                     provenance=Provenance("file:///x", "0" * 64, "2026-01-01T00:00:00Z"))

    kept = batch()
    place_column(kept, "kommunenummer", level="kommune", keep_unplaced=True)
    assert kept.rows == [("910000001", "0301", "0301", "0301", "kommune", "exact"),
                         ("910000002", "7777", None, None, None, "unresolvable")]
    assert kept.quarantine == []

    strict = batch()
    place_column(strict, "kommunenummer", level="kommune")
    assert [r[0] for r in strict.rows] == ["910000001"]
    assert [(q.raw_value, q.column) for q in strict.quarantine] == [("7777", "kommunenummer")]


def test_eight_digit_codes_are_delbydeler_where_the_manifest_says_so():
    from atlas_crawl.items import Batch, Provenance
    from atlas_crawl.pipelines.geography import place_column

    def batch():
        return Batch(source_id="bufdir_barnefattigdom", columns=["region"],
                     rows=[("03010109",), ("0301",)], key=["region"],
                     provenance=Provenance("file:///x", "0" * 64, "2026-01-01T00:00:00Z"))

    bufdir = batch()
    place_column(bufdir, "region", eight_digits="delbydel")
    assert [r[3] for r in bufdir.rows] == ["delbydel", "kommune"]
    plain = batch()
    place_column(plain, "region")
    assert [r[3] for r in plain.rows] == ["grunnkrets", "kommune"]
