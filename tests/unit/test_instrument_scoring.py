"""Scoring of every shipped instrument against its published cut-points, and refusal of
incomplete or out-of-range responses with the item named."""

from typing import Any

import pytest

from caserecord.domain.errors import InvalidDefinitionError, InvalidResponseError
from caserecord.instruments import Definition, builtin_definitions, parse_definition, score


def definition(code: str) -> Definition:
    return next(d for d in builtin_definitions() if d.code == code)


def answers(code: str, total: int, **fixed: Any) -> dict[str, Any]:
    """Responses to the instrument's scored items adding up to ``total`` (each item as
    high as it goes, in order), with ``fixed`` answers kept as given."""
    d = definition(code)
    found: dict[str, Any] = dict(fixed)
    left: float = total
    for key, value in fixed.items():
        item = d.item(key)
        assert item is not None
        left -= item.value_of(value)
    for item in d.summed():
        if item.id in found:
            continue
        options = sorted(item.numbers(), key=item.value_of)
        pick = max((v for v in options if item.value_of(v) <= left), key=item.value_of)
        found[item.id] = pick
        left -= item.value_of(pick)
    assert left == 0
    return found


def test_every_shipped_definition_loads_and_the_required_ones_are_there() -> None:
    codes = {d.code for d in builtin_definitions()}

    assert {"phq-9", "gad-7", "audit-c", "dast-10", "asam", "katz-adl", "lawton-iadl"} <= codes


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq_9_bands_at_their_cut_points(total: int, band: str) -> None:
    scored = score(
        definition("phq-9"), answers("phq-9", total, **{"9": 0} if total < 25 else {}), {}
    )

    assert (scored.total, scored.band) == (total, band)


def test_phq_9_item_9_above_zero_is_a_safety_flag_whatever_the_total() -> None:
    scored = score(definition("phq-9"), answers("phq-9", 1, **{"9": 1}), {})

    assert scored.band == "minimal"
    assert scored.safety_flags == ["self-harm-thoughts"]


def test_phq_9_without_item_9_raises_no_flag() -> None:
    scored = score(definition("phq-9"), answers("phq-9", 18, **{"9": 0}), {})

    assert scored.flags == [] and scored.safety_flags == []


def test_phq_9_difficulty_item_is_recorded_but_not_scored() -> None:
    responses = answers("phq-9", 6, **{"9": 0}) | {"difficulty": 3}

    assert score(definition("phq-9"), responses, {}).total == 6


def test_phq_9_missing_item_is_refused_naming_it() -> None:
    responses = answers("phq-9", 12, **{"9": 0})
    del responses["4"]

    with pytest.raises(InvalidResponseError, match=r"item 4 .* not answered") as refused:
        score(definition("phq-9"), responses, {})

    assert refused.value.details == {"item": "4"}


@pytest.mark.parametrize("value", [4, -1, "2", True, 1.5, None])
def test_phq_9_out_of_range_response_is_refused_naming_the_item(value: Any) -> None:
    responses = answers("phq-9", 5, **{"9": 0}) | {"3": value}

    with pytest.raises(InvalidResponseError, match="item 3") as refused:
        score(definition("phq-9"), responses, {})

    assert refused.value.details == {"item": "3"}


def test_a_response_to_an_item_the_instrument_lacks_is_refused() -> None:
    responses = answers("gad-7", 3) | {"8": 1}

    with pytest.raises(InvalidResponseError, match="has no item 8"):
        score(definition("gad-7"), responses, {})


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad_7_bands_at_their_cut_points(total: int, band: str) -> None:
    scored = score(definition("gad-7"), answers("gad-7", total), {})

    assert (scored.total, scored.band) == (total, band)


@pytest.mark.parametrize(
    ("sex", "total", "band", "flags"),
    [
        ("male", 3, "negative", []),
        ("male", 4, "positive", ["positive-screen"]),
        ("female", 2, "negative", []),
        ("female", 3, "positive", ["positive-screen"]),
        ("female", 12, "positive", ["positive-screen"]),
        ("male", 0, "negative", []),
    ],
)
def test_audit_c_cut_offs_differ_by_sex(sex: str, total: int, band: str, flags: list[str]) -> None:
    scored = score(definition("audit-c"), answers("audit-c", total), {"sex": sex})

    assert (scored.total, scored.band, scored.flags) == (total, band, flags)


@pytest.mark.parametrize("context", [{}, {"sex": "unknown"}])
def test_audit_c_without_the_sex_its_cut_off_depends_on_is_refused(
    context: dict[str, str],
) -> None:
    with pytest.raises(InvalidResponseError, match="sex") as refused:
        score(definition("audit-c"), answers("audit-c", 2), context)

    assert refused.value.details == {"item": "sex"}


def test_dast_10_scores_item_3_reversed() -> None:
    all_no = {str(i): 0 for i in range(1, 11)}
    all_yes = {str(i): 1 for i in range(1, 11)}

    assert score(definition("dast-10"), all_no, {}).total == 1  # "no" to item 3 scores
    assert score(definition("dast-10"), all_yes, {}).total == 9


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "no problems reported"),
        (1, "low"),
        (2, "low"),
        (3, "moderate"),
        (5, "moderate"),
        (6, "substantial"),
        (8, "substantial"),
        (9, "severe"),
        (10, "severe"),
    ],
)
def test_dast_10_bands_at_their_cut_points(total: int, band: str) -> None:
    scored = score(definition("dast-10"), answers("dast-10", total), {})

    assert (scored.total, scored.band) == (total, band)


def test_asam_records_six_ratings_and_a_level_of_care_without_a_total() -> None:
    ratings = {"d1": 1, "d2": 0, "d3": 2, "d4": 3, "d5": 2, "d6": 1}

    scored = score(definition("asam"), ratings | {"level_of_care": "2.1"}, {})

    assert (scored.total, scored.band, scored.flags) == (None, None, [])
    assert scored.outcome == {"level_of_care": "2.1"}


def test_asam_dimension_rated_4_is_flagged() -> None:
    ratings = {"d1": 4, "d2": 0, "d3": 2, "d4": 3, "d5": 2, "d6": 1}

    scored = score(definition("asam"), ratings | {"level_of_care": "3.7-WM"}, {})

    assert scored.flags == ["severe-risk-dimension"]


def test_asam_level_of_care_outside_the_list_is_refused() -> None:
    ratings = {f"d{i}": 1 for i in range(1, 7)}

    with pytest.raises(InvalidResponseError, match="level_of_care"):
        score(definition("asam"), ratings | {"level_of_care": "5"}, {})


def test_asam_names_its_edition_as_its_version() -> None:
    asam = definition("asam")

    assert asam.version == 3
    assert [i.id for i in asam.items[:6]] == ["d1", "d2", "d3", "d4", "d5", "d6"]


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (6, "full function"),
        (5, "moderate impairment"),
        (4, "moderate impairment"),
        (3, "moderate impairment"),
        (2, "severe impairment"),
        (0, "severe impairment"),
    ],
)
def test_katz_adl_bands(total: int, band: str) -> None:
    scored = score(definition("katz-adl"), answers("katz-adl", total), {})

    assert (scored.total, scored.band) == (total, band)


def test_lawton_iadl_sums_all_eight_items_without_bands() -> None:
    scored = score(definition("lawton-iadl"), answers("lawton-iadl", 5), {})

    assert (scored.total, scored.band) == (5, None)
    assert definition("lawton-iadl").total_range() == (0, 8)


def plain_definition(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "code": "mood-3",
        "version": 1,
        "title": "Three mood questions",
        "items": [
            {
                "id": str(i),
                "text": f"q{i}",
                "options": [{"value": v, "label": str(v)} for v in (0, 1, 2)],
            }
            for i in (1, 2, 3)
        ],
        "scoring": {"method": "sum"},
        "bands": [{"label": "low", "min": 0, "max": 2}, {"label": "high", "min": 3, "max": 6}],
    }
    return base | changes


def test_a_definition_given_as_data_scores_like_a_shipped_one() -> None:
    d = parse_definition(plain_definition())

    assert score(d, {"1": 2, "2": 1, "3": 0}, {}).band == "high"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"bands": [{"label": "low", "min": 0, "max": 2}]}, "bands must cover totals 0 to 6"),
        (
            {"bands": [{"label": "a", "min": 0, "max": 3}, {"label": "b", "min": 3, "max": 6}]},
            "without gap or overlap",
        ),
        ({"scoring": {"method": "sum", "items": ["9"]}}, "scoring names 9"),
        ({"code": "Not A Code"}, "code"),
        ({"flags": [{"code": "f", "label": "f", "items": ["7"], "item_at_least": 1}]}, "7 is not"),
        ({"flags": [{"code": "f", "label": "f"}]}, "item_at_least or total_at_least"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_definition_that_cannot_score_is_refused_saying_why(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidDefinitionError, match=message):
        parse_definition(plain_definition(**changes))
