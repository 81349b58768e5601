"""Bad input that must be refused with a clear problem, and never stored."""

import pytest

from tests.e2e.conftest import Api, a_case


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_non_finite_score_is_refused_with_the_fields_path(sqlite_api: Api, number: str) -> None:
    _, case_id = a_case(sqlite_api)
    body = (
        '{"assessments": [{"domain": "medical", "level": "low", "score": ' + number + "}]}"
    ).encode()

    response = sqlite_api.client.post(
        f"/v1/cases/{case_id}/assessments",
        content=body,
        headers=sqlite_api.headers("caseworker", "agency-a", None)
        | {"Content-Type": "application/json"},
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["path"] for e in response.json()["errors"]] == ["assessments[0].score"]
    assert sqlite_api.get(f"/v1/cases/{case_id}").json()["assessments"] == []
