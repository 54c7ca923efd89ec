"""Manifests: every shipped one loads and says what the catalogue needs; a bad one fails with the
file and the field named."""

from pathlib import Path

import pytest
import yaml

from atlas_crawl.manifests import (
    MANIFEST_DIR,
    PROVIDERS,
    ManifestError,
    all_manifests,
    get_manifest,
    load_manifest,
    manifest_for_table,
)

SHIPPED = sorted(MANIFEST_DIR.glob("*.yml"))


def test_manifests_are_shipped():
    assert len(SHIPPED) >= 18  # the SSB tables of issue 2 alone
    assert {p.stem for p in SHIPPED} >= {
        "ssb_07459", "ssb_08764", "ssb_12944", "ssb_06083", "ssb_13995", "ssb_10826",
        "ssb_06913", "ssb_06944", "ssb_06947", "ssb_09429", "ssb_12063", "ssb_12131",
        "ssb_12132", "ssb_12292", "ssb_08484", "ssb_08487", "ssb_09405", "ssb_09406"}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_manifest_loads(path):
    manifest = load_manifest(path)
    assert manifest.source_id == path.stem
    assert manifest.provider in PROVIDERS
    assert manifest.upstream_url.startswith(("https://", "http://"))
    assert manifest.license and manifest.license_url.startswith("http")
    assert manifest.dimensions and all(d.code and d.meaning for d in manifest.dimensions)
    assert manifest.table_names[0] == manifest.source_id
    assert all(p.column for p in manifest.places)
    assert get_manifest(manifest.source_id).path == path


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_manifest_has_keywords_in_both_languages(path):
    keywords = load_manifest(path).keywords
    assert set(keywords) == {"nb", "en"}
    assert keywords["nb"] and keywords["en"]


def test_ssb_table_ids_keep_their_leading_zero():
    """YAML reads an unquoted 07459 as text but 01234 as the octal number 668: the table number
    must survive exactly, or the spider asks SSB for the wrong table."""
    ssb = [m for m in all_manifests().values() if "pxweb" in m.extra]
    assert len(ssb) >= 18
    for manifest in ssb:
        number = manifest.source_id.removeprefix("ssb_")
        assert str(manifest.extra["pxweb"]["table"]) == number, manifest.path
        assert manifest.upstream_id == number, manifest.path


def test_ssb_07459_fields():
    m = get_manifest("ssb_07459")
    assert m.upstream_id == "07459"
    assert m.tags == {"provider": "ssb", "topic": "demographics", "geo": "kommune",
                      "cadence": "annual"}
    assert m.periodicity == "P1Y" and m.eu_theme == "SOCI"
    assert [d.code for d in m.dimensions] == ["Region", "Kjonn", "Alder", "ContentsCode", "Tid"]
    assert [p.column for p in m.places] == ["region"]
    assert m.write_mode == "upsert"
    assert m.extra["pxweb"]["table"] == "07459"  # unknown keys land in extra
    assert manifest_for_table("ssb_07459") is m
    assert manifest_for_table("no_such_table") is None


def test_imdi_bosetting_places_its_names_by_the_rows_level_and_heading():
    (place,) = get_manifest("imdi_bosetting").places
    assert (place.column, place.on, place.row_level, place.within, place.within_if_it_helps) == (
        "place", "year", "level", "listed_under", True)
    (nav_place,) = get_manifest("nav_ledighet_maned").places
    assert (nav_place.within, nav_place.within_if_it_helps, nav_place.row_level) == (
        "fylke", False, "level")


def test_unknown_source_names_the_missing_file():
    with pytest.raises(ManifestError, match=r"no manifest for source 'ssb_99999'.*ssb_99999\.yml"):
        get_manifest("ssb_99999")


def _base() -> dict:
    return yaml.safe_load((MANIFEST_DIR / "ssb_07459.yml").read_text(encoding="utf-8"))


def _without(name):
    def change(d):
        del d[name]
    return change


def _set(name, value):
    def change(d):
        d[name] = value
    return change


def _tag(name, value):
    def change(d):
        d["tags"][name] = value
    return change


def _nested(key, index, name, value):
    def change(d):
        d[key][index][name] = value
    return change


BAD = [
    ("license missing", _without("license"), "license", "is required"),
    ("empty description", _set("description", "  "), "description", "non-empty string"),
    ("unknown provider", _tag("provider", "skatteetaten"), "tags.provider", "'skatteetaten'"),
    ("unknown topic", _tag("topic", "weather"), "tags.topic", "'weather'"),
    ("tags without cadence", lambda d: d["tags"].pop("cadence"), "tags", "exactly the keys"),
    ("eu_theme", _set("eu_theme", "SOCIAL"), "eu_theme", "'SOCIAL' is not one of"),
    ("periodicity", _set("periodicity", "yearly"), "periodicity", "ISO duration"),
    ("policy", _set("presentation_policy", "secret"), "presentation_policy", "'secret'"),
    ("source_id vs file name", _set("source_id", "ssb_07460"), "source_id",
     "must equal the file name 'ssb_07459'"),
    ("dimension without meaning", _nested("dimensions", 1, "meaning", ""), "dimensions[1]",
     "'code' and 'meaning'"),
    ("no dimensions", _set("dimensions", []), "dimensions", "non-empty list"),
    ("place level", _nested("places", 0, "level", "county"), "places[0].level", "'county'"),
    ("place without column", _set("places", [{"level": "kommune"}]), "places[0]",
     "needs a 'column'"),
    ("place row level not a column", _nested("places", 0, "row_level", ["level"]),
     "places[0].row_level", "must name a column"),
    ("parent that may not help, without a parent",
     _nested("places", 0, "within_if_it_helps", True), "places[0].within_if_it_helps",
     "needs a 'within' column"),
    ("write_mode", _set("write_mode", "append"), "write_mode", "'append' is not one of"),
    ("watch not a list", _set("watch", "https://www.ssb.no/*"), "watch", "list of URL patterns"),
    ("tables not a list", _set("tables", "dim_x"), "tables", "list of table names"),
    ("empty upstream_id", _set("upstream_id", None), "upstream_id", "non-empty"),
    ("empty methodology_version", _set("methodology_version", ""), "methodology_version",
     "non-empty"),
    ("keywords in one language", _set("keywords", {"nb": ["befolkning"]}), "keywords",
     "exactly the keys nb, en"),
    ("keywords not a list", _set("keywords", {"nb": "befolkning", "en": ["population"]}),
     "keywords.nb", "non-empty list of words"),
    ("empty keyword", _set("keywords", {"nb": ["befolkning"], "en": [""]}), "keywords.en",
     "non-empty list of words"),
]


@pytest.mark.parametrize(("change", "field", "problem"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_manifest_names_file_and_field(tmp_path, change, field, problem):
    data = _base()
    change(data)
    path = tmp_path / "ssb_07459.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ManifestError) as failure:
        load_manifest(path)
    message = str(failure.value)
    assert message.startswith(f"{path}: field '{field}': "), message
    assert problem in message


def test_broken_yaml_names_the_file(tmp_path):
    path = tmp_path / "ssb_07459.yml"
    path.write_text("source_id: ssb_07459\ntags: {provider: ssb\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=rf"^{path}: not valid YAML"):
        load_manifest(path)


def test_a_list_is_not_a_manifest(tmp_path):
    path = tmp_path / "x.yml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=rf"^{path}: must be a YAML mapping, found list"):
        load_manifest(path)


def test_one_bad_manifest_stops_the_folder(tmp_path):
    (tmp_path / "ssb_07459.yml").write_text(
        (MANIFEST_DIR / "ssb_07459.yml").read_text(encoding="utf-8"), encoding="utf-8")
    data = _base()
    data["source_id"] = "ssb_08764"
    data["tags"]["geo"] = "planet"
    (tmp_path / "ssb_08764.yml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ManifestError, match=r"ssb_08764\.yml: field 'tags\.geo'"):
        all_manifests(Path(tmp_path))


def test_every_declared_view_has_its_sql():
    from atlas_crawl.store.views import BUILDERS, declared_views
    from atlas_crawl.watch.changes import WATCH_MANIFEST

    declared = {name for m in [*all_manifests().values(), WATCH_MANIFEST]
                for name in declared_views(m)}
    assert declared == set(BUILDERS)
