"""Cases over HTTP: intake, assessment, prior treatment, transfer, closure and reopening."""

from tests.e2e.http import Api, a_case, intake


def test_a_case_is_opened_assessed_reviewed_transferred_closed_and_reopened(api: Api) -> None:
    client_id = api.created("/v1/clients", {"given_name": "Ray", "family_name": "Holt"})["id"]
    opened = api.post("/v1/cases", intake(client_id))
    case_id = opened.json()["id"]
    base = f"/v1/cases/{case_id}"

    api.created(
        f"{base}/assessments",
        {
            "assessments": [
                {"domain": "psycho_social", "level": "high", "instrument": "ASI", "score": 0.6},
                {"domain": "medical", "level": "moderate"},
            ]
        },
    )
    api.created(
        f"{base}/prior-treatments",
        {
            "treatment": "Outpatient detox",
            "effectiveness": 2,
            "started_on": "2022-01-10",
            "ended_on": "2022-03-01",
        },
    )
    api.created(
        f"{base}/assignment",
        {"case_manager_id": "worker-2", "reason": "caseload balance"},
        role="supervisor",
    )
    api.created(f"{base}/closure", {"outcome": "stable", "reason": "goals met"}, role="supervisor")
    refused = api.post(
        f"{base}/notes",
        {"text": "late call", "contact_kind": "client", "contact_mode": "phone"},
        role="supervisor",  # the case is worker-2's now
    )
    api.created(f"{base}/reopening", {"reason": "relapse reported"}, role="supervisor")
    case = api.get(base).json()

    assert opened.status_code == 201 and opened.headers["location"] == base
    assert (refused.status_code, refused.json()["code"]) == (409, "case_closed")
    assert case["version"] == 6
    assert case["status"] == "open"
    assert case["case_manager_id"] == "worker-2"
    assert [a["domain"] for a in case["assessments"]] == ["psycho_social", "medical"]
    assert case["prior_treatments"][0]["effectiveness"] == 2
    assert [s["value"] for s in case["status_history"]] == ["open", "closed", "open"]


def test_a_case_cannot_be_opened_for_another_agencys_client(sqlite_api: Api) -> None:
    client_id = sqlite_api.created("/v1/clients", {"given_name": "A", "family_name": "B"})["id"]

    response = sqlite_api.post("/v1/cases", intake(client_id), agency="agency-b")

    assert response.status_code == 404
    assert response.json()["code"] == "client_not_found"


def test_an_intake_with_an_unknown_specialty_names_the_field(sqlite_api: Api) -> None:
    client_id = sqlite_api.created("/v1/clients", {"given_name": "A", "family_name": "B"})["id"]

    response = sqlite_api.post("/v1/cases", intake(client_id) | {"specialty": "astrology"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "specialty"


def test_an_earlier_version_of_a_case_can_be_read(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    sqlite_api.created(
        f"/v1/cases/{case_id}/assessments", {"assessments": [{"domain": "medical", "level": "low"}]}
    )

    first = sqlite_api.get(f"/v1/cases/{case_id}", version=1)
    never = sqlite_api.get(f"/v1/cases/{case_id}", version=9)

    assert first.json()["version"] == 1 and first.json()["assessments"] == []
    assert never.status_code == 404


def test_an_entry_marked_in_error_is_set_aside_but_kept(api: Api) -> None:
    _, case_id = a_case(api)
    note = api.created(
        f"/v1/cases/{case_id}/notes",
        {
            "text": "Wrong client's visit",
            "contact_kind": "client",
            "contact_mode": "in_person",
        },
    )

    marked = api.post(
        f"/v1/cases/{case_id}/entries-in-error",
        {"target_version": note["version"], "reason": "recorded on the wrong case"},
    )
    twice = api.post(
        f"/v1/cases/{case_id}/corrections", {"target_version": note["version"], "reason": "again"}
    )
    case = api.get(f"/v1/cases/{case_id}").json()
    timeline = api.get(f"/v1/cases/{case_id}/timeline").json()["items"]

    assert marked.status_code == 200
    assert (twice.status_code, twice.json()["code"]) == (409, "already_in_error")
    assert case["notes"] == []
    assert case["entries_in_error"] == {str(note["version"]): marked.json()["version"]}
    (entry,) = [e for e in timeline if e["event_type"] == "ProgressNoteRecorded"]
    assert entry["in_error"] is True
    marking = next(e for e in timeline if e["version"] == entry["marked_in_error_by"])
    assert marking["reason"] == "recorded on the wrong case"
