"""The golden runner's report of where stored rows part from the expected ones."""

from atlas_crawl.run.golden import first_difference

EXPECTED = ('{"kommune": "0301", "value": 1.0, "year": "2024"}\n'
            '{"kommune": "1103", "value": 2.0, "year": "2024"}\n')


def test_equal_texts_have_no_difference():
    assert first_difference(EXPECTED, EXPECTED) is None


def test_the_first_differing_row_names_its_columns_and_both_values():
    actual = EXPECTED.replace('"value": 2.0', '"value": 2.5')
    assert first_difference(actual, EXPECTED) == (
        "row 2 (kommune='1103', value=2.0, year='2024'): value: got 2.5, expected 2.0")


def test_missing_and_extra_rows_are_named():
    first, second = EXPECTED.splitlines()
    assert first_difference(first + "\n", EXPECTED) == (
        f"1 row(s) missing, the first (row 2): {second}")
    assert first_difference(EXPECTED + first + "\n", EXPECTED) == (
        f"1 extra row(s), the first (row 3): {first}")


def test_an_absent_column_is_shown_as_absent():
    actual = EXPECTED.replace(', "year": "2024"}\n{"kommune": "1103"', '}\n{"kommune": "1103"')
    assert first_difference(actual, EXPECTED) == (
        "row 1 (kommune='0301', value=1.0, year='2024'): year: got '<absent>', expected '2024'")
