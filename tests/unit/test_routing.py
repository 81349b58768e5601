"""The API's routers pass over a request none of their paths can answer, and match, refuse
a method and redirect a slash as FastAPI's own do."""

from fastapi import Depends, FastAPI, HTTPException
from fastapi.testclient import TestClient
from starlette.routing import Match

from caserecord.api import deferred
from caserecord.api.routing import Router, any_path


def an_app() -> tuple[FastAPI, Router]:
    notes = Router(prefix="/v1/cases/{case_id}/notes")

    @notes.post("")
    def add(case_id: str) -> dict[str, str]:
        return {"added_to": case_id}

    @notes.get("/{note_id}")
    def read(case_id: str, note_id: str) -> dict[str, str]:
        return {"case": case_id, "note": note_id}

    others = Router()

    @others.get("/v1/cases/{case_id}")
    def case(case_id: str) -> dict[str, str]:
        return {"case": case_id}

    app = FastAPI()
    app.include_router(notes)
    app.include_router(others)
    return app, notes


def test_one_expression_answers_the_paths_a_router_has_and_no_other() -> None:
    _, notes = an_app()
    paths = any_path(notes.routes)

    assert paths is not None
    assert paths.match("/v1/cases/c1/notes") and paths.match("/v1/cases/c1/notes/n1")
    assert not paths.match("/v1/cases/c1")
    assert not paths.match("/v1/cases/c1/notesx")
    assert not paths.match("/v1/cases/c1/notes/n1/more")


def test_a_router_passes_over_a_path_none_of_its_routes_has_and_matches_its_own() -> None:
    app, notes = an_app()
    (included,) = [r for r in app.routes if getattr(r, "original_router", None) is notes]

    def match(path: str, method: str) -> Match:
        scope = {"type": "http", "path": path, "root_path": "", "method": method}
        return included.matches(scope)[0]

    assert match("/v1/cases/c1", "GET") == Match.NONE
    assert match("/v1/cases/c1/notes", "POST") == Match.FULL
    assert match("/v1/cases/c1/notes", "GET") == Match.PARTIAL


def test_requests_reach_the_routes_of_either_router_with_their_path_parameters() -> None:
    client = TestClient(an_app()[0])

    assert client.post("/v1/cases/c1/notes").json() == {"added_to": "c1"}
    assert client.get("/v1/cases/c1/notes/n1").json() == {"case": "c1", "note": "n1"}
    assert client.get("/v1/cases/c1").json() == {"case": "c1"}


def test_a_known_path_with_another_method_is_405_and_an_unknown_path_404() -> None:
    client = TestClient(an_app()[0])

    assert client.get("/v1/cases/c1/notes").status_code == 405
    assert client.delete("/v1/cases/c1").status_code == 405
    assert client.get("/v1/elsewhere").status_code == 404


def test_a_path_with_a_trailing_slash_is_redirected_to_the_route() -> None:
    client = TestClient(an_app()[0])

    response = client.get("/v1/cases/c1/", follow_redirects=False)

    assert response.status_code == 307
    assert response.headers["location"].endswith("/v1/cases/c1")


def test_an_async_route_makes_the_checks_its_dependencies_put_off_before_its_body() -> None:
    ran: list[str] = []

    async def refused_later() -> None:
        def check() -> None:
            ran.append("check")
            raise HTTPException(401, "the token is unknown or revoked")

        deferred.begin().add(check)

    guarded = Router()

    @guarded.get("/v1/guarded", dependencies=[Depends(refused_later)])
    async def body() -> dict[str, str]:
        ran.append("body")
        return {}

    app = FastAPI()
    app.include_router(guarded)

    response = TestClient(app).get("/v1/guarded")

    assert response.status_code == 401
    assert ran == ["check"]
