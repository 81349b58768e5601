"""Caseloads over HTTP, read back right after the writes (read-your-writes)."""

import time

import pytest
from eventsourcing.persistence import OperationalError
from fastapi.testclient import TestClient

from caserecord.api import create_app
from caserecord.api import runtime as runtime_module
from caserecord.config import Settings
from caserecord.projections import ProjectionService
from tests.e2e.http import CLIENT, Api, a_case, caseworker_of, intake, serve


def test_a_caseload_lists_the_agencys_open_cases_by_manager(api: Api) -> None:
    _, first = a_case(api)
    _, second = a_case(api)
    api.created(
        f"/v1/cases/{second}/assignment",
        {"case_manager_id": "worker-2", "reason": "transfer"},
        role="supervisor",
    )
    a_case(api, agency="agency-b")
    # The supervisor's assignment came after the caseworker's last write: read at the head.
    head = api.client.app.state.runtime.records.recorder.max_notification_id()  # type: ignore[attr-defined]
    reached = {"X-Min-Position": str(head)}

    everyone = api.get("/v1/caseloads", headers=reached).json()["items"]
    mine = api.get(
        "/v1/caseloads", case_manager_id=caseworker_of("agency-a"), headers=reached
    ).json()["items"]

    assert {c["case_id"] for c in everyone} == {first, second}
    assert [c["case_id"] for c in mine] == [first]
    assert mine[0]["client_name"] == "Maria Lopez"


def test_caseload_filters_are_validated(sqlite_api: Api) -> None:
    bad_sort = sqlite_api.get("/v1/caseloads", sort="shoe_size")
    bad_specialty = sqlite_api.get("/v1/caseloads", specialty="astrology")

    assert bad_sort.status_code == 422 and bad_sort.json()["errors"][0]["path"] == "query:sort"
    assert bad_specialty.status_code == 422


def test_a_closed_case_leaves_the_caseload(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    sqlite_api.created(
        f"/v1/cases/{case_id}/closure",
        {"outcome": "done", "reason": "goals met"},
        role="supervisor",
    )
    # The supervisor closed it: the caseworker reads the caseload at that position.
    head = sqlite_api.client.app.state.runtime.records.recorder.max_notification_id()  # type: ignore[attr-defined]
    reached = {"X-Min-Position": str(head)}

    assert sqlite_api.get("/v1/caseloads", headers=reached).json()["items"] == []


def test_another_worker_reads_your_write_when_given_its_position(sqlite_api: Api) -> None:
    other_worker = TestClient(create_app(sqlite_api.settings))
    auth = sqlite_api.headers("caseworker", "agency-a", None)
    with other_worker:
        client_id = sqlite_api.created("/v1/clients", CLIENT)["id"]
        opened = sqlite_api.post("/v1/cases", intake(client_id))
        position = opened.headers["x-record-position"]

        seen = other_worker.get("/v1/caseloads", headers=auth | {"X-Min-Position": position})

    assert int(position) == 2
    assert [c["case_id"] for c in seen.json()["items"]] == [opened.json()["id"]]


def test_workers_that_do_not_run_the_views_serve_them_from_the_process_that_does(
    sqlite_url: str,
) -> None:
    views_elsewhere = Settings(database_url=sqlite_url, run_projections=False)
    for api in serve(views_elsewhere):
        runner = ProjectionService(views_elsewhere)  # `caserecord projections run`
        try:
            assert runner.start() is True
            client_id = api.created("/v1/clients", CLIENT)["id"]
            opened = api.post("/v1/cases", intake(client_id))
            position = opened.headers["x-record-position"]

            seen = api.get("/v1/caseloads", headers={"X-Min-Position": position})
        finally:
            runner.close()

        assert seen.status_code == 200, seen.text
        assert [c["case_id"] for c in seen.json()["items"]] == [opened.json()["id"]]


def test_a_position_past_the_head_of_the_log_is_refused_at_once_not_waited_for(
    sqlite_api: Api,
) -> None:
    a_case(sqlite_api)
    started = time.monotonic()

    response = sqlite_api.get("/v1/caseloads", headers={"X-Min-Position": "999999999"})

    assert time.monotonic() - started < sqlite_api.settings.read_your_writes_timeout
    assert response.status_code == 422
    assert response.json()["code"] == "position_beyond_log"
    assert response.json()["errors"][0]["path"] == "header:X-Min-Position"


def test_every_read_says_the_log_position_it_reflects(sqlite_api: Api) -> None:
    client_id, case_id = a_case(sqlite_api)
    head = sqlite_api.client.app.state.runtime.head()  # type: ignore[attr-defined]

    for path in ("/v1/caseloads", f"/v1/cases/{case_id}", f"/v1/clients/{client_id}"):
        response = sqlite_api.get(path)

        assert response.status_code == 200, path
        assert int(response.headers["X-Position"]) == head, path


def test_read_models_that_could_not_start_with_the_app_start_on_a_later_request(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_start = ProjectionService.start
    attempts: list[int] = []

    def start_failing_once(service: ProjectionService) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationalError("database is locked")
        real_start(service)

    monkeypatch.setattr(ProjectionService, "start", start_failing_once)
    monkeypatch.setattr(runtime_module, "RETRY_SECONDS", 0.0)
    for api in serve(Settings(database_url=sqlite_url, poll_interval=0.05)):
        a_case(api)

        response = api.get("/v1/caseloads")

        assert response.status_code == 200
        assert len(response.json()["items"]) == 1
    assert len(attempts) == 2


def test_a_caller_waits_for_its_own_writes_not_for_another_callers(sqlite_url: str) -> None:
    # Nobody runs the views here, so they never reach any write.
    stalled = Settings(database_url=sqlite_url, run_projections=False, read_your_writes_timeout=0.3)
    for api in serve(stalled):
        a_case(api, "agency-a")  # written with the caseworker's token

        colleague = api.get("/v1/caseloads", role="supervisor")
        writer = api.get("/v1/caseloads", role="caseworker")

        assert colleague.status_code == 200, colleague.text
        assert int(colleague.headers["X-Position"]) == 0  # what the views reflect
        assert writer.status_code == 503, writer.text
        assert writer.headers["Retry-After"]
