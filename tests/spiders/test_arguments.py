"""Spider arguments declared once, as the attribute each sets (atlas_crawl/spiders/arguments.py):
the base spider reads a given one, leaves an absent one at its default, and lists them all in the
refusal of an unknown one."""

import re

import pytest

from atlas_crawl.spiders import fhi
from atlas_crawl.spiders.arguments import ArgumentError, check_names
from atlas_crawl.spiders.lottstift import LottstiftMomskompensasjonSpider
from atlas_crawl.spiders.valgresultat import ValgresultatSpider


def test_a_given_argument_is_read_and_set_as_the_attribute_it_declares():
    spider = LottstiftMomskompensasjonSpider(years="2019-2021", year="2023,2024",
                                             allow_shrink="yes")
    assert spider.years == {2019, 2020, 2021}
    assert spider.year == 2023
    assert spider.allow_shrink is True
    # What was given is recorded as given (the run's arguments in _runs).
    assert spider.arguments == {"years": "2019-2021", "year": "2023,2024", "allow_shrink": "yes"}


def test_an_absent_or_empty_argument_keeps_its_default():
    spider = LottstiftMomskompensasjonSpider(years="")
    assert (spider.years, spider.year, spider.allow_shrink, spider.file) == (None, None, False,
                                                                              None)
    assert ValgresultatSpider().valgtyper == ["f", "k", "st"]


def test_a_named_spider_keeps_its_own_table_unless_one_is_given():
    assert fhi.Fhi338Spider().table_id == "338"
    assert fhi.Fhi338Spider(table="171").table_id == "171"
    assert fhi.FhiTableSpider(source="nokkel", table="338").table_id == "338"
    # The argument's name (-a table=) is not the attribute's (table_id).
    assert fhi.FhiTableSpider(source="nokkel", table="338").source_id == "fhi_nokkel_338"


def test_a_value_that_does_not_read_is_refused_naming_the_argument():
    with pytest.raises(ArgumentError, match=r"^-a newest=0: expected a whole number from 1 up$"):
        fhi.FhiTableSpider(source="nokkel", table="338", newest="0")


def test_an_unknown_argument_is_refused_with_every_argument_the_spider_takes():
    with pytest.raises(ArgumentError) as refused:
        check_names(fhi.FhiTableSpider, {"tabel": "338"})
    said = str(refused.value)
    assert said.startswith("fhi_table: unknown argument -a tabel; fhi_table takes: allow_shrink (")
    taken = re.findall(r"(?:takes: |; )(\w+) \(", said)
    assert taken == ["allow_shrink", "captured", "file", "newest", "origin", "source", "table"]
    assert "table (FHI table number (fhi_table only))" in said
