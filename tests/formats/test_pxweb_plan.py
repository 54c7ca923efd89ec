"""The PxWebApi v2 query planner (atlas_crawl/formats/pxweb.py): every query within the cell
limit, time split first, then dimensions that may be eliminated, the union of the queries exactly
the selection, and every request short enough for a URL or sent as POST."""

from __future__ import annotations

import json

import pytest
from fakes.pxweb_tables import FakeDimension, FakeTable

from atlas_crawl.formats import pxweb
from atlas_crawl.spiders.ssb import SsbTableSpider, parse_select


def dim(dim_id, codes, elimination=False, metric=False):
    cats = [(c, f"{dim_id} {c}") for c in codes]
    units = {c: ("personer", 0) for c in codes} if metric else None
    return FakeDimension(dim_id, dim_id.lower(), cats, elimination=elimination, units=units)


def meta_of(*dims, time="Tid") -> pxweb.TableMetadata:
    return pxweb.parse_metadata(FakeTable("99100", "99100: planned", list(dims), time=time)
                                .metadata())


def regions(n):
    return [f"{k:04d}" for k in range(101, 101 + n)]


def years(first, last):
    return [str(y) for y in range(first, last + 1)]


def quarters(first, last):
    return [f"{y}K{q}" for y in range(first, last + 1) for q in range(1, 5)]


T07459 = meta_of(dim("Region", regions(994), elimination=True),
                 dim("Kjonn", ["1", "2"], elimination=True),
                 dim("Alder", [f"{a:03d}" for a in range(105)] + ["105+"], elimination=True),
                 dim("ContentsCode", ["Personer1"], metric=True),
                 dim("Tid", years(1986, 2025)))
T12451 = meta_of(dim("Region", regions(937), elimination=True),
                 dim("Kjonn", ["0", "1", "2"], elimination=True),
                 dim("ContentsCode", [f"C{k}" for k in range(9)], metric=True),
                 dim("Tid", quarters(2000, 2026)[1:-2]))  # 2000K2 .. 2026K2: 105 quarters
DEEP = meta_of(dim("Region", regions(1000), elimination=True),
               dim("Alder", [f"{a:03d}" for a in range(106)], elimination=True),
               dim("Kjonn", ["0", "1", "2"], elimination=True),
               dim("ContentsCode", ["Personer"], metric=True),
               dim("Tid", years(2016, 2025)))


def assert_exact_cover(meta, queries, selection=None):
    """Every cell of the selection is in exactly one query: each query lies within the selection,
    no two queries share a cell (they would share a code in every dimension), and the cell
    counts add up."""
    wanted = {d.id: set((selection or {}).get(d.id, d.codes)) for d in meta.dimensions}
    chosen = [{d.id: set(q.codes(meta, d.id)) for d in meta.dimensions} for q in queries]
    for codes in chosen:
        assert all(codes[d] <= wanted[d] for d in wanted)
    for i, a in enumerate(chosen):
        for b in chosen[i + 1:]:
            assert any(not a[d] & b[d] for d in wanted), "a cell is fetched twice"
    total = 1
    for codes in wanted.values():
        total *= len(codes)
    assert sum(q.cells for q in queries) == total


@pytest.mark.parametrize("meta,max_cells,calls", [
    (T07459, 800_000, 14),   # 8.4M cells: 3 years (632k cells) per call
    (T12451, 800_000, 4),    # 2.66M cells: 27 quarters per call, evenly
    (DEEP, 100_000, 40),     # one year is 318k cells: years, then regions in 4 parts
    (DEEP, 1_000, 3_340),    # 3 regions (954 cells) per call
])
def test_every_query_fits_and_together_they_cover_the_table_once(meta, max_cells, calls):
    queries = pxweb.plan(meta, max_cells)
    assert len(queries) == calls
    assert all(0 < q.cells <= max_cells for q in queries)
    assert sum(q.cells for q in queries) == meta.cells
    if len(queries) <= 100:
        assert_exact_cover(meta, queries)


def test_time_is_split_first_and_evenly_the_rest_stays_star():
    queries = pxweb.plan(T12451, 800_000)
    assert [len(q.selection["Tid"]) for q in queries] == [27, 26, 26, 26]
    assert all(q.selection[d] is None for q in queries for d in ("Region", "Kjonn",
                                                                 "ContentsCode"))
    assert [q.selection["Tid"][0] for q in queries] == ["2000K2", "2007K1", "2013K3", "2020K1"]
    assert_exact_cover(T12451, queries)


def test_then_dimensions_that_may_be_eliminated_larger_first_never_the_mandatory_ones():
    queries = pxweb.plan(DEEP, 100_000)
    assert {len(q.selection["Tid"]) for q in queries} == {1}
    assert {len(q.selection["Region"]) for q in queries} == {250}
    assert all(q.selection[d] is None for q in queries for d in ("Alder", "Kjonn",
                                                                 "ContentsCode"))
    assert_exact_cover(DEEP, queries)


def test_a_mandatory_dimension_is_split_only_when_nothing_else_is_left():
    meta = meta_of(dim("Region", ["0301"], elimination=True),
                   dim("ContentsCode", [f"C{k}" for k in range(10)], metric=True),
                   dim("Tid", ["2025"]))
    queries = pxweb.plan(meta, 4)
    assert [q.selection["ContentsCode"] for q in queries] == [
        ["C0", "C1", "C2", "C3"], ["C4", "C5", "C6"], ["C7", "C8", "C9"]]  # even, 4 at most
    assert_exact_cover(meta, queries)


def test_a_table_within_the_limit_is_one_query_with_every_dimension_star():
    queries = pxweb.plan(T07459, 10_000_000)
    assert len(queries) == 1
    assert queries[0].selection == {d.id: None for d in T07459.dimensions}
    url = queries[0].get_url()
    for dim_id in ("Region", "Kjonn", "Alder", "ContentsCode", "Tid"):
        assert f"valueCodes[{dim_id}]=*" in url


def test_a_selection_from_the_manifest_or_command_line_narrows_and_is_covered_exactly():
    selection = parse_select("Kjonn=2,1;Tid=2024,2025;Region=*")
    assert selection == {"Kjonn": ["2", "1"], "Tid": ["2024", "2025"], "Region": ["*"]}
    queries = pxweb.plan(T07459, 250_000, selection)  # one year of 07459 is 210,728 cells
    assert [q.selection["Tid"] for q in queries] == [["2024"], ["2025"]]
    assert all(q.selection["Kjonn"] == ["1", "2"] for q in queries)  # the table's order
    assert all(q.selection["Region"] is None for q in queries)
    assert_exact_cover(T07459, queries, {"Kjonn": ["1", "2"], "Tid": ["2024", "2025"]})


def test_a_selection_naming_what_the_table_lacks_fails_before_any_call():
    with pytest.raises(pxweb.PlanError, match=r"Kjonn has no code\(s\) \['3'\]"):
        pxweb.plan(T07459, 800_000, {"Kjonn": ["1", "3"]})
    with pytest.raises(pxweb.PlanError, match="no dimension 'Kjønn'"):
        pxweb.plan(T07459, 800_000, {"Kjønn": ["1"]})


def test_halve_splits_along_the_first_axis_without_overlap():
    query = pxweb.plan(T12451, 800_000)[0]
    first, second = pxweb.halve(T12451, query)
    assert len(first.selection["Tid"]) == 13 and len(second.selection["Tid"]) == 14
    assert first.cells + second.cells == query.cells
    assert not set(first.selection["Tid"]) & set(second.selection["Tid"])
    one = pxweb.Query("99100", {"Region": ["0101"], "Kjonn": ["0"], "ContentsCode": ["C0"],
                                "Tid": ["2025K1"]}, query.sizes)
    with pytest.raises(pxweb.PlanError, match="one-cell"):
        pxweb.halve(T12451, one)


def test_requests_are_short_urls_or_posts_carrying_the_same_selection():
    spider = SsbTableSpider(table="99100")
    queries = pxweb.plan(DEEP, 10_000)  # Region lists of 10+ codes, some very long
    long_ones = 0
    for query in queries:
        request = spider.data_request(query)
        if request.method == "GET":
            assert len(request.url) <= pxweb.MAX_URL_LENGTH
        else:
            long_ones += 1
            assert len(query.get_url()) > pxweb.MAX_URL_LENGTH
            assert "valueCodes" not in request.url
            body = json.loads(request.body)
            assert {s["variableCode"]: s["valueCodes"] for s in body["selection"]} == {
                k: v or ["*"] for k, v in query.selection.items()}
    assert long_ones == 0  # DEEP at 10,000 cells: 32 regions per call fit in a URL
    big = pxweb.plan(meta_of(dim("Region", regions(1288), elimination=True),
                             dim("Tid", ["2025"])), 1000)
    assert [q.cells for q in big] == [644, 644]
    assert all(spider.data_request(q).method == "POST" for q in big)


@pytest.mark.parametrize("header,expected", [
    ("40;w=60s", (40, 60.0)),
    ("40;w=60", (40, 60.0)),
    (b"5;w=1s", (5, 1.0)),
    ("10;w=1, 30;w=60", (30, 60.0)),        # both hold: the slower pace (2 s per call)
    ("10;w=1, 1000;w=3600", (1000, 3600.0)),
    ('"default";q=40;w=60', (40, 60.0)),
    ("", None), (None, None), ("garbage", None), ("40", None),
])
def test_rate_limit_policy_header(header, expected):
    assert pxweb.parse_ratelimit_policy(header) == expected


def test_pace_comes_from_config_or_header_whichever_is_stricter():
    ssb_now = pxweb.parse_config({"maxDataCells": 800000, "maxCallsPerTimeWindow": 0,
                                  "timeWindow": 0})
    assert ssb_now == pxweb.ConfigLimits(800_000, 0, 0.0)
    default = pxweb.effective_limits(ssb_now, None)
    assert (default.max_calls, default.time_window) == (30, 60.0)
    assert default.delay == pytest.approx(2.0 * pxweb.PACING_MARGIN)
    header = pxweb.effective_limits(ssb_now, (40, 60.0))
    assert (header.max_calls, header.time_window, header.source) == (40, 60.0,
                                                                      "x-ratelimit-policy")
    assert header.delay == pytest.approx(1.5 * pxweb.PACING_MARGIN)
    older = pxweb.parse_config(b'{"maxDataCells": 1000, "maxCallsPerTimeWindow": 30,'
                               b' "timeWindow": 60}')
    stricter = pxweb.effective_limits(older, (40, 60.0))
    assert (stricter.max_cells, stricter.max_calls, stricter.source) == (1000, 30, "/config")


def test_too_many_cells_is_403_or_a_400_that_says_so():
    assert pxweb.too_many_cells(403, b"")
    assert pxweb.too_many_cells(400, b'{"title": "Too many cells selected", "status": 400}')
    assert not pxweb.too_many_cells(400, b'{"title": "Non-existent value", "detail": "Tid"}')
    assert not pxweb.too_many_cells(429, b"")
    assert pxweb.problem_detail(b'{"title": "Non-existent value", "detail": "Tid: [\'1800\']"}'
                                ) == "Non-existent value: Tid: ['1800']"
    assert pxweb.problem_detail(b"<html>Bad gateway</html>") == "<html>Bad gateway</html>"
