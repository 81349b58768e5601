"""Over HTTP, a token row edited in the database without the integrity key is not trusted."""

from tests.e2e.http import Api
from tests.integration.stored_rows import StoredRows


def test_a_token_whose_role_was_raised_in_the_database_is_refused(api: Api) -> None:
    assert api.get("/v1/caseloads").status_code == 200
    rows = StoredRows(api.settings.database_url)
    rows._run("UPDATE api_tokens SET role='admin' WHERE name='caseworker@agency-a'")

    response = api.get("/v1/caseloads")

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
