"""Oversized bodies, validation errors, page caps and what an error may disclose."""

from collections.abc import Iterator

from fastapi.testclient import TestClient

from caserecord.api import create_app
from caserecord.config import Settings
from tests.e2e.http import CLIENT, Api, a_case, serve

TWO_MIB = 2 * 1024 * 1024


def test_a_2_mib_body_is_refused_with_413_before_parsing(sqlite_api: Api) -> None:
    body = b'{"given_name": "' + b"x" * TWO_MIB + b'", "family_name": "Lopez"}'

    response = sqlite_api.client.post(
        "/v1/clients",
        content=body,
        headers=sqlite_api.headers("caseworker", "agency-a", None)
        | {"Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "content_too_large"
    assert sqlite_api.get("/v1/events").json()["items"] == []


def test_a_streamed_body_without_length_is_cut_off_at_the_limit(sqlite_api: Api) -> None:
    chunks_sent = []

    def chunks() -> Iterator[bytes]:
        for i in range(64):
            chunks_sent.append(i)
            yield b" " * 65536

    response = sqlite_api.client.post(
        "/v1/clients",
        content=chunks(),
        headers=sqlite_api.headers("caseworker", "agency-a", None)
        | {"Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert sqlite_api.get("/v1/events").json()["items"] == []


def test_even_an_unauthenticated_oversized_body_is_refused_unread(sqlite_api: Api) -> None:
    response = sqlite_api.client.post("/v1/clients", content=b"x" * TWO_MIB)

    assert response.status_code == 413


def test_validation_errors_name_each_field_path(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)

    response = sqlite_api.post(
        f"/v1/cases/{case_id}/plans",
        {"title": "Plan", "activities": [{"activity": "AA", "cadence": "hourly"}]},
    )

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert problem["status"] == 422
    assert [e["path"] for e in problem["errors"]] == ["activities[0].cadence"]


def test_a_domain_rule_answers_with_its_error_code(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)

    response = sqlite_api.post(
        f"/v1/cases/{case_id}/prior-treatments",
        {
            "treatment": "Detox",
            "effectiveness": 3,
            "started_on": "2020-02-01",
            "ended_on": "2020-01-01",
        },
    )

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_value"
    assert response.json()["type"] == "urn:caserecord:problem:invalid_value"


def test_a_required_reason_is_required_by_the_schema_with_its_path(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)

    missing = sqlite_api.post(
        f"/v1/cases/{case_id}/assignment", {"case_manager_id": "worker-2"}, role="supervisor"
    )
    blank = sqlite_api.post(
        f"/v1/cases/{case_id}/assignment",
        {"case_manager_id": "worker-2", "reason": "  "},
        role="supervisor",
    )

    for response in (missing, blank):
        assert response.status_code == 422
        assert response.json()["code"] == "validation_failed"
        assert [e["path"] for e in response.json()["errors"]] == ["reason"]


def test_a_naive_effective_time_is_a_validation_error(sqlite_api: Api) -> None:
    response = sqlite_api.post("/v1/clients", CLIENT | {"effective_at": "2026-01-01T10:00:00"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "effective_at"


def test_an_effective_time_in_the_future_is_refused(sqlite_api: Api) -> None:
    response = sqlite_api.post("/v1/clients", CLIENT | {"effective_at": "2999-01-01T10:00:00Z"})

    assert response.status_code == 422
    assert response.json()["code"] == "effective_time_in_future"


def test_page_sizes_are_capped_by_the_server(sqlite_url: str) -> None:
    settings = Settings(database_url=sqlite_url, max_page_size=3, run_projections=False)
    for api in serve(settings):
        for n in range(5):
            api.created(
                "/v1/clients", CLIENT | {"client_number": f"C-{n}", "confirmed_distinct": True}
            )

        page = api.get("/v1/events", limit=1000).json()

        assert len(page["items"]) == 3
        assert page["next"] is not None


def test_an_unexpected_error_discloses_no_trace_sql_or_path(sqlite_api: Api) -> None:
    records = sqlite_api.client.app.state.runtime.records  # type: ignore[attr-defined]
    records.get_case = lambda *a, **k: 1 / 0  # noqa: ARG005

    response = sqlite_api.get("/v1/cases/00000000-0000-4000-8000-000000000000")

    assert response.status_code == 500
    assert response.json() == {
        "type": "urn:caserecord:problem:internal_error",
        "title": "Internal server error",
        "status": 500,
        "detail": "an unexpected error occurred",
        "code": "internal_error",
    }


def test_a_store_that_is_not_there_is_503_with_retry_after(tmp_path: object) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/never-initialised.db", run_projections=False
    )

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.get("/v1/events", headers={"Authorization": "Bearer crt_x"})

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "never-initialised" not in response.text


def test_a_misspelt_filter_is_refused_rather_than_ignored(sqlite_api: Api) -> None:
    response = sqlite_api.get("/v1/caseloads", case_manager="worker-1")

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "query:case_manager"


def test_a_body_that_is_not_text_is_a_validation_error(sqlite_api: Api) -> None:
    response = sqlite_api.client.post(
        "/v1/clients",
        content=b"\xff\xfe\x00garbage",
        headers=sqlite_api.headers("caseworker", "agency-a", None)
        | {"Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "body"


def test_405_names_every_method_the_path_allows(sqlite_api: Api) -> None:
    response = sqlite_api.client.delete("/v1/tokens")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


def test_an_unreachable_postgresql_is_503_with_retry_after() -> None:
    settings = Settings(
        database_url="postgresql://postgres@127.0.0.1:1/test", run_projections=False
    )

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.get("/v1/events", headers={"Authorization": "Bearer crt_x"})

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["code"] == "store_unavailable"
    assert "127.0.0.1" not in response.text


def test_moments_at_the_ends_of_the_calendar_are_refused_before_recording(
    sqlite_api: Api,
) -> None:
    _, case_id = a_case(sqlite_api)

    write = sqlite_api.post("/v1/clients", CLIENT | {"effective_at": "0001-01-01T00:00:00+01:00"})
    read = sqlite_api.get(f"/v1/cases/{case_id}/as-of", effective_at="9999-12-31T23:59:59-01:00")
    caseload = sqlite_api.get("/v1/caseloads")

    assert (write.status_code, write.json()["errors"][0]["path"]) == (422, "effective_at")
    assert (read.status_code, read.json()["errors"][0]["path"]) == (422, "query:effective_at")
    assert caseload.status_code == 200
