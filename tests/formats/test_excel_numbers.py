"""Decimal commas, space thousands and suppression symbols (atlas_crawl.formats.numbers)."""

from __future__ import annotations

import pytest

from atlas_crawl.formats.numbers import EMPTY, Cell, parse_cell, parse_number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12,2", 12.2),  # Udir: decimal comma
        ("0,3", 0.3),
        ("9,0", 9.0),
        ("6 640", 6640),  # Udir: ASCII space thousands
        ("1\u00a0924", 1924),  # IMDi: no-break space thousands
        ("38 967", 38967),
        ("1 234 567,5", 1234567.5),
        ("−5", -5),
        ("6.306333321699", 6.306333321699),
        ("0", 0),
    ],
)
def test_parse_number(raw, expected):
    got = parse_number(raw)
    assert got == expected
    assert type(got) is type(expected)


@pytest.mark.parametrize("raw", ["12 34", "1.234.567", "abc", "12,", "", "1 2345"])
def test_not_numbers(raw):
    assert parse_number(raw) is None


@pytest.mark.parametrize("symbol", ["*", ":", "..", ".", "-"])
def test_suppression_symbols_are_status_with_null_value(symbol):
    assert parse_cell(symbol) == Cell(None, symbol)
    assert parse_cell(f" {symbol} ") == Cell(None, symbol)


def test_native_numbers_blanks_and_text():
    assert parse_cell(54) == (54, None)
    assert parse_cell(0.6) == (0.6, None)
    assert parse_cell(None) is EMPTY and EMPTY.is_empty
    assert parse_cell("  ") == EMPTY
    assert parse_cell(float("nan")) == EMPTY
    assert parse_cell("avventer vedtak") == (None, "avventer vedtak")
    with pytest.raises(ValueError):
        parse_cell("avventer vedtak", allow_text=False)
    with pytest.raises(TypeError):
        parse_cell(True)
