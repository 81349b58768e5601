"""The scores view on both stores: a client's trend across cases, the safety flags due,
and the view rebuilt equal to the one followed live."""

from uuid import UUID

from caserecord.application import CaseRecords
from caserecord.domain.recording import Actor
from caserecord.projections import ProjectionService
from caserecord.projections.scores import score_key
from tests.factories import a_client, an_open_case


def phq9(*values: int) -> dict[str, int]:
    return {str(i + 1): v for i, v in enumerate(values)}


def administer(records: CaseRecords, actor: Actor, case_id: UUID, answers: dict[str, int]) -> int:
    return records.administer_instrument(
        actor, case_id, instrument="phq-9", respondent="client", responses=answers
    ).version


def test_a_clients_trend_spans_its_cases_in_order_and_pages(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    client_id = a_client(records, worker)
    first, second = (
        an_open_case(records, worker, client_id),
        an_open_case(records, worker, client_id),
    )
    administer(records, worker, first, phq9(3, 3, 3, 3, 3, 2, 0, 0, 0))
    administer(records, worker, second, phq9(2, 2, 2, 2, 0, 0, 0, 0, 0))
    administer(records, worker, second, phq9(1, 1, 0, 0, 0, 0, 0, 0, 0))
    records.administer_instrument(
        worker, second, instrument="gad-7", respondent="client", responses=phq9(1, 1, 1, 1, 1, 1, 1)
    )
    projections.catch_up()

    trend = projections.queries.client_scores("agency-a", client_id, "phq-9")
    page = projections.queries.client_scores("agency-a", client_id, "phq-9", limit=2)
    rest = projections.queries.client_scores(
        "agency-a", client_id, "phq-9", after=score_key(page[-1])
    )

    assert [(s["case_id"], s["total"], s["band"]) for s in trend] == [
        (first, 17, "moderately severe"),
        (second, 8, "mild"),
        (second, 2, "minimal"),
    ]
    assert page + rest == trend
    assert projections.queries.client_scores("agency-b", client_id, "phq-9") == []


def test_safety_flags_are_due_until_reviewed_or_set_aside_and_follow_the_manager(
    records: CaseRecords, projections: ProjectionService, worker: Actor, supervisor: Actor
) -> None:
    reviewed, moved, set_aside = (an_open_case(records, worker) for _ in range(3))
    flagged = phq9(0, 0, 0, 0, 0, 0, 0, 0, 2)
    versions = {c: administer(records, worker, c, flagged) for c in (reviewed, moved, set_aside)}
    projections.catch_up()
    due_at_once = projections.queries.safety_flags("agency-a")

    records.review_safety_flag(worker, reviewed, flag_version=versions[reviewed], note="Called.")
    records.assign_case_manager(supervisor, moved, case_manager_id="worker-2", reason="leave")
    records.mark_entry_in_error(
        worker, set_aside, target_version=versions[set_aside], reason="wrong client"
    )
    projections.catch_up()

    assert [f["case_id"] for f in due_at_once] == [reviewed, moved, set_aside]
    assert due_at_once[0]["flags"] == ["self-harm-thoughts"]
    due = projections.queries.safety_flags("agency-a")
    assert [(f["case_id"], f["case_manager_id"]) for f in due] == [(moved, "worker-2")]
    assert projections.queries.safety_flags("agency-a", case_manager_id="worker-1") == []
    assert (
        projections.queries.client_scores("agency-a", due[0]["client_id"], "phq-9")[0]["total"] == 2
    )


def test_the_scores_view_rebuilds_to_the_digest_it_was_followed_to(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    administer(records, worker, case_id, phq9(1, 2, 3, 0, 1, 2, 3, 0, 1))
    gone = administer(records, worker, case_id, phq9(0, 0, 0, 0, 0, 0, 0, 0, 0))
    records.mark_entry_in_error(worker, case_id, target_version=gone, reason="duplicate")
    projections.catch_up()
    followed = projections.digests(["scores"])

    projections.rebuild(["scores"])

    assert projections.digests(["scores"]) == followed
