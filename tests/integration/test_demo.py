"""The demo agency holds what `make run` should show: every case status, a no-show, a
contact with several participants, a discharge."""

from caserecord.application import CaseRecords
from caserecord.demo import load_demo
from caserecord.domain.recording import Actor


def test_the_demo_shows_each_status_a_no_show_a_meeting_and_a_discharge(
    records: CaseRecords,
) -> None:
    demo = load_demo(records)
    worker = Actor("demo-caseworker", "caseworker", demo.agency_id)
    case = {k: records.get_case(worker, demo.ids[f"{k}/case"]) for k in ("waitlist", "hold")}
    closed = records.get_case(worker, demo.ids["discharge/case"])
    recovery = demo.ids["recovery/case"]
    meeting = records.get_note(worker, recovery, demo.ids["recovery/meeting"])
    no_show = records.get_note(worker, recovery, demo.ids["recovery/no-show"])

    again = load_demo(records)

    assert case["waitlist"]["status"] == "waitlisted"
    assert case["hold"]["status"] == "on_hold"
    assert closed["status_details"]["discharge_reason"] == "goals_met"
    assert no_show["contact_status"] == "no_show"
    participants = meeting["participants"]
    assert participants["client"] and participants["providers"] and participants["staff_ids"]
    assert participants["support_contact_ids"] == [demo.ids["recovery/sponsor"]]
    assert len(records.directory_services(worker, need="housing-insecurity")) == 3
    assert again.recorded == 0


def test_the_demo_shows_an_approved_application_and_one_awaiting_a_late_decision(
    records: CaseRecords,
) -> None:
    demo = load_demo(records)
    worker = Actor("demo-caseworker", "caseworker", demo.agency_id)

    case = records.get_case(worker, demo.ids["recovery/case"])

    assert [(a["program"], a["status"]) for a in case["benefit_applications"]] == [
        ("snap", "approved"),
        ("medicaid", "submitted"),
    ]
    assert case["benefit_applications"][0]["renews_on"] is not None
