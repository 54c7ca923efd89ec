"""The ssb_klass spider: its request plan, how it joins correspondences, and the snapshot refresh.

The bodies built inside this file are CONSTRUCTED in Klass's documented shape to exercise code
paths no real capture covers (131 changes, 131->128, 103->131); their values illustrate the logic
and are not facts about any kommune. The real captures are exercised by golden/ssb_klass/.
"""

import json
from datetime import date
from types import SimpleNamespace

from scrapy.http import Request, TextResponse

from atlas_crawl.formats.klass import BASE_URL, Ask, plan
from atlas_crawl.geo.reference import Reference
from atlas_crawl.geo.snapshot import DATA_DIR, read_table
from atlas_crawl.spiders.ssb_klass import SsbKlassSpider


def response(url: str, payload: dict) -> TextResponse:
    return TextResponse(url=url, body=json.dumps(payload).encode(), encoding="utf-8",
                        request=Request(url))


def code(c, name, start, end=None):
    return {"code": c, "parentCode": None, "level": "1", "name": name, "shortName": "",
            "presentationName": "", "validFrom": None, "validTo": None,
            "validFromInRequestedRange": start, "validToInRequestedRange": end, "notes": ""}


def change(old, old_name, new, new_name, on):
    return {"oldCode": old, "oldName": old_name, "oldShortName": "", "newCode": new,
            "newName": new_name, "newShortName": "", "changeOccurred": on}


def corr(src, tgt, start, end=None):
    return {"sourceCode": src, "sourceName": "", "sourceShortName": "", "targetCode": tgt,
            "targetName": "", "targetShortName": "", "validFrom": start, "validTo": end}


def run(spider: SsbKlassSpider, answers: dict[str, dict]) -> dict[str, list]:
    """Feed answers (URL -> body) to the spider; return the batches' rows by table."""
    spider.pending = len(answers)
    items = []
    for url, payload in answers.items():
        items.extend(spider.parse_klass(response(url, payload), Ask.from_url(url)))
    tables: dict[str, list] = {}
    for batch in items:
        tables.setdefault(batch.table, []).extend(dict(zip(batch.columns, r)) for r in batch.rows)
    return tables


def test_default_plan_is_the_whole_history():
    asks = plan(today=date(2026, 11, 22))
    urls = [a.url() for a in asks]
    assert urls[:4] == [
        f"{BASE_URL}/classifications/131/codes?from=1950-01-01&includeFuture=true",
        f"{BASE_URL}/classifications/104/codes?from=1950-01-01&includeFuture=true",
        f"{BASE_URL}/classifications/103/codes?from=1950-01-01&includeFuture=true",
        f"{BASE_URL}/classifications/1/codes?from=1950-01-01&includeFuture=true",
    ]
    changes = [a for a in asks if a.kind == "changes"]
    assert len(changes) == 2 * (2026 - 1950)  # 131 and 104, 1951..2026
    assert f"{BASE_URL}/classifications/131/changes?from=2019-01-01&to=2020-01-02" \
           "&includeFuture=true" in urls
    assert urls[-1] == (f"{BASE_URL}/classifications/131/corresponds?"
                        "targetClassificationId=128&from=1950-01-01")


def test_plan_arguments_and_url_round_trip():
    asks = plan(codes="104:2018-01-01..2020-01-02", at="131:2023-03-02", changes="104",
                change_years="2020", correspondences="104>131:2018-01-01..2020-01-02",
                include_future=False)
    assert [a.url() for a in asks] == [
        f"{BASE_URL}/classifications/104/codes?from=2018-01-01&to=2020-01-02",
        f"{BASE_URL}/classifications/131/codesAt?date=2023-03-02",
        f"{BASE_URL}/classifications/104/changes?from=2019-01-01&to=2020-01-02",
        (f"{BASE_URL}/classifications/104/corresponds?targetClassificationId=131"
         "&from=2018-01-01&to=2020-01-02"),
    ]
    assert [Ask.from_url(a.url()) for a in asks] == asks
    assert Ask.from_url("http://data.ssb.no/api/klass/v1/classifications/131/codes.json"
                        "?from=2024-01-01").window == ("2024-01-01", None)


def test_dims_take_sentralitet_and_bydel_kommune_from_correspondences():
    spider = SsbKlassSpider()
    tables = run(spider, {
        f"{BASE_URL}/classifications/131/codes?from=2020-01-01": {"codes": [
            code("1124", "Sola", "2020-01-01"), code("0301", "Oslo", "2020-01-01")]},
        f"{BASE_URL}/classifications/131/corresponds?targetClassificationId=128&from=2020-01-01":
            {"correspondenceItems": [corr("1124", "03", "2020-01-01", "2024-01-01"),
                                     corr("1124", "02", "2024-01-01"),
                                     corr("0301", "01", "2020-01-01")]},
        f"{BASE_URL}/classifications/103/codes?from=2020-01-01": {"codes": [
            code("030116", "Sentrum", "2020-01-01")]},
        f"{BASE_URL}/classifications/103/corresponds?targetClassificationId=131&from=2020-01-01":
            {"correspondenceItems": [corr("030116", "0301", "2020-01-01")]},
    })
    kommuner = {r["code"]: r for r in tables["dim_kommune"]}
    assert kommuner["1124"]["sentralitet"] == "02"  # the latest class overlapping the row
    assert (kommuner["0301"]["fylke"], kommuner["0301"]["sentralitet"]) == ("03", "01")
    assert tables["dim_bydel"][0]["kommune"] == "0301"
    assert len(tables["geo_correspondences"]) == 4


def test_change_kinds_including_a_merge_that_keeps_a_code():
    spider = SsbKlassSpider()
    url = f"{BASE_URL}/classifications/131/changes?from=2001-01-01&to=2002-01-02"
    tables = run(spider, {
        f"{BASE_URL}/classifications/131/codes?from=1990-01-01": {"codes": [
            code("0716", "Våle", "1990-01-01", "2002-01-01"),
            code("0718", "Ramnes", "1990-01-01", "2002-01-01"),
            code("0716", "Re", "2002-01-01"), code("0101", "Halden", "1990-01-01")]},
        url: {"codeChanges": [
            change("0716", "Våle", "0716", "Re", "2002-01-01"),
            change("0718", "Ramnes", "0716", "Re", "2002-01-01"),
            change("0101", "Halden", "0101", "Halden - Haldi", "2002-01-01"),
            change(None, None, "0199", "Ny", "2002-01-01")]},
    })
    kinds = {(r["old_code"], r["new_code"]): r["kind"] for r in tables["geo_changes"]}
    assert kinds == {("0716", "0716"): "merged", ("0718", "0716"): "merged",
                     ("0101", "0101"): "name"}


def test_refresh_refuses_an_incomplete_crawl(caplog):
    spider = SsbKlassSpider(refresh_snapshot="1")
    run(spider, {f"{BASE_URL}/classifications/131/codes?from=2024-01-01": {"codes": [
        code("0301", "Oslo", "2024-01-01")]}})
    assert spider.snapshot_tables is None
    assert "refresh_snapshot refused" in caplog.text
    assert "no 131 codes from 1950-01-01 with an open end" in caplog.text


def test_refresh_writes_a_snapshot_that_resolves(tmp_path):
    for name in ("bydeler", "bydel_changes", "oslo_service_bydeler", "special_codes", "aliases"):
        (tmp_path / f"{name}.csv").write_bytes((DATA_DIR / f"{name}.csv").read_bytes())
    (tmp_path / "territory.csv").write_text("code,valid_to,current,status,source\n")
    spider = SsbKlassSpider(refresh_snapshot="1", snapshot_dir=str(tmp_path))
    answers = {
        f"{BASE_URL}/classifications/131/codes?from=1950-01-01": {"codes": [
            code("0716", "Våle", "1950-01-01", "2002-01-01"),
            code("0718", "Ramnes", "1950-01-01", "2002-01-01"),
            code("0716", "Re", "2002-01-01", "2020-01-01"),
            code("0704", "Tønsberg", "1950-01-01", "2020-01-01"),
            code("3803", "Tønsberg", "2020-01-01", "2024-01-01"),
            code("3905", "Tønsberg", "2024-01-01"), code("9999", "Uoppgitt", "1950-01-01")]},
        f"{BASE_URL}/classifications/104/codes?from=1950-01-01": {"codes": [
            code("07", "Vestfold", "1950-01-01", "2020-01-01"),
            code("38", "Vestfold og Telemark", "2020-01-01", "2024-01-01"),
            code("39", "Vestfold", "2024-01-01")]},
    }
    events = {
        2002: [change("0716", "Våle", "0716", "Re", "2002-01-01"),
               change("0718", "Ramnes", "0716", "Re", "2002-01-01")],
        2020: [change("0716", "Re", "3803", "Tønsberg", "2020-01-01"),
               change("0704", "Tønsberg", "3803", "Tønsberg", "2020-01-01")],
        2024: [change("3803", "Tønsberg", "3905", "Tønsberg", "2024-01-01")],
    }
    fylke_events = {2020: [change("07", "Vestfold", "38", "Vestfold og Telemark", "2020-01-01")],
                    2024: [change("38", "Vestfold og Telemark", "39", "Vestfold", "2024-01-01")]}
    for year in range(1951, date.today().year + 1):
        window = f"from={year - 1}-01-01&to={year}-01-02"
        answers[f"{BASE_URL}/classifications/131/changes?{window}"] = {
            "codeChanges": events.get(year, [])}
        answers[f"{BASE_URL}/classifications/104/changes?{window}"] = {
            "codeChanges": fylke_events.get(year, [])}
    run(spider, answers)
    assert spider.snapshot_tables is not None
    spider.crawler = SimpleNamespace(stats=SimpleNamespace(get_value=lambda *a: 0))
    spider.write_snapshot(spider, "finished")

    kommuner = read_table("kommuner", tmp_path)
    assert [(r["code"], r["name"], r["valid_from"], r["valid_to"]) for r in kommuner
            if r["code"] == "0716"] == [("0716", "Våle", "1950-01-01", "2002-01-01"),
                                        ("0716", "Re", "2002-01-01", "2020-01-01")]
    assert "9999" not in {r["code"] for r in kommuner}  # special codes live elsewhere
    ref = Reference(tmp_path)
    vale = ref.resolve("0716u")
    assert (vale.name, vale.current, vale.status) == ("Våle", "3905", "merged")
    assert ref.resolve("07", 2019).successors == ()  # one kommune only, all now in 39
    assert ref.resolve("07", 2019).current == "39"
