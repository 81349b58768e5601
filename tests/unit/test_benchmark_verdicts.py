"""The benchmark table's met/MISSED verdicts compare the measured figure with the target."""

from benchmarks.common import Row
from benchmarks.report import verdict


def row(value: float, baseline: float, target: str, unit: str = "cmd/s") -> Row:
    return Row("s", "figure", "sqlite", value, unit, "baseline", baseline, target)


def test_a_ratio_below_an_at_least_target_is_missed() -> None:
    assert verdict(row(130, 1000, ">= 0.8")) == "MISSED"


def test_a_ratio_above_an_at_least_target_is_met() -> None:
    assert verdict(row(900, 1000, ">= 0.8")) == "met"


def test_text_after_the_number_that_is_not_the_rows_unit_keeps_the_verdict_on_the_ratio() -> None:
    assert verdict(row(130, 1000, ">= 0.8 x new case")) == "MISSED"
    assert verdict(row(130, 1000, ">= 0.8 (both stores)")) == "MISSED"


def test_a_target_in_the_rows_unit_is_compared_with_the_value() -> None:
    assert verdict(row(25_000, 100_000, ">= 20,000 cmd/s (SQLite)")) == "met"
    assert verdict(row(12.0, 3.0, "p50 <= 10 ms", unit="ms")) == "MISSED"
    assert verdict(row(8.0, 3.0, "p50 <= 10 ms", unit="ms")) == "met"


def test_a_count_that_must_be_zero_is_met_only_at_zero() -> None:
    assert verdict(row(0, 1500, "<= 0 responses", unit="responses")) == "met"
    assert verdict(row(3, 1500, "<= 0 responses", unit="responses")) == "MISSED"


def test_a_target_without_a_number_has_no_verdict() -> None:
    assert verdict(row(1, 2, "bounded")) == ""
    assert verdict(row(1, 2, "")) == ""
