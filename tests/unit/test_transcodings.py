"""How the parts of a case are stored in snapshots."""

import json
from datetime import date

from eventsourcing.persistence import JSONTranscoder

from caserecord.domain.entities import Change, Progress, Referral, Referrals
from caserecord.transcodings import all_transcodings


def transcoder() -> JSONTranscoder:
    found = JSONTranscoder()
    for transcoding in all_transcodings():
        found.register(transcoding)
    return found


def test_a_part_of_a_case_is_stored_as_its_field_values_in_order() -> None:
    change = Change(7, "active", {"reason": "back"}, True)

    stored = json.loads(transcoder().encode([change]))

    assert stored == [{"_type_": "Change", "_data_": [7, "active", {"reason": "back"}, True]}]
    assert transcoder().decode(transcoder().encode([change])) == [change]


def test_trailing_fields_equal_to_their_defaults_are_not_stored() -> None:
    changes = [Change(7, "active"), Change(8, "suspended", {"reason": "away"})]

    stored = json.loads(transcoder().encode(changes))

    assert [c["_data_"] for c in stored] == [[7, "active"], [8, "suspended", {"reason": "away"}]]
    assert transcoder().decode(transcoder().encode(changes)) == changes


def test_a_referral_stored_whole_by_case_version_2_reads_as_its_index() -> None:
    whole = [
        "ref-1", 5, "housing", "Trust", "Tenancy", "homeless", "urgent", None,
        [{"_type_": "Change", "_data_": [5, "pending", {}, False]}], False,
    ]  # fmt: skip

    decoded = transcoder().decode(json.dumps({"_type_": "Referral", "_data_": whole}).encode())

    assert decoded == Referral("ref-1", 5, [Change(5, "pending")], False)


def test_a_part_stored_as_a_dict_of_fields_by_an_earlier_version_still_reads() -> None:
    earlier = {
        "_type_": "Progress",
        "_data_": {
            "version": 4,
            "achievement": "improving",
            "measured_value": "",
            "note": "",
            "in_error": False,
        },
    }

    assert transcoder().decode(json.dumps([earlier]).encode()) == [Progress(4, "improving", "", "")]


def test_a_status_history_is_stored_inline_as_field_values() -> None:
    referral = Referral("ref-1", 5, [Change(5, "sent"), Change(6, "accepted")])

    stored = json.loads(transcoder().encode(referral))

    assert stored == {
        "_type_": "Referral",
        "_data_": ["ref-1", 5, [[5, "sent"], [6, "accepted"]]],
    }
    assert transcoder().decode(transcoder().encode(referral)) == referral


def test_a_status_history_stored_as_separate_parts_still_reads() -> None:
    earlier = {
        "_type_": "Referral",
        "_data_": ["ref-1", 5, [{"_type_": "Change", "_data_": [5, "pending", {}, False]}]],
    }

    decoded = transcoder().decode(json.dumps(earlier).encode())

    assert decoded == Referral("ref-1", 5, [Change(5, "sent")])


def two_referrals() -> Referrals:
    return Referrals(
        [
            Referral("ref-1", 5, [Change(5, "sent"), Change(6, "accepted")]),
            Referral("ref-2", 7, [Change(7, "sent")], True),
        ]
    )


def test_a_case_s_referrals_are_stored_as_one_list_of_their_field_values() -> None:
    referrals = two_referrals()

    stored = json.loads(transcoder().encode(referrals))

    assert stored == {
        "_type_": "referrals",
        "_data_": [
            ["ref-1", 5, [[5, "sent"], [6, "accepted"]]],
            ["ref-2", 7, [[7, "sent"]], True],
        ],
    }
    assert transcoder().decode(transcoder().encode(referrals)) == referrals


def test_restored_referrals_answer_as_a_mapping_in_the_order_they_were_made() -> None:
    restored = transcoder().decode(transcoder().encode(two_referrals()))

    assert restored.made == {"ref-1": 5, "ref-2": 7}
    assert (len(restored), list(restored), "ref-2" in restored, "ref-3" in restored) == (
        2,
        ["ref-1", "ref-2"],
        True,
        False,
    )
    assert restored.get("ref-3") is None
    assert restored["ref-2"] == Referral("ref-2", 7, [Change(7, "sent")], True)
    assert [r.referral_id for r in restored.values()] == ["ref-1", "ref-2"]
    assert restored == dict(two_referrals().items()) == dict(restored)


def test_restored_referrals_store_again_as_they_were_with_the_changes_made_since() -> None:
    restored = transcoder().decode(transcoder().encode(two_referrals()))
    restored["ref-2"].statuses.append(Change(8, "accepted"))
    restored.add(Referral("ref-3", 9, [Change(9, "sent")]))

    stored = json.loads(transcoder().encode(restored))["_data_"]

    assert stored == [
        ["ref-1", 5, [[5, "sent"], [6, "accepted"]]],
        ["ref-2", 7, [[7, "sent"], [8, "accepted"]], True],
        ["ref-3", 9, [[9, "sent"]]],
    ]


def test_a_referral_stored_as_pending_reads_as_sent() -> None:
    stored = {"_type_": "referrals", "_data_": [["ref-1", 5, [[5, "pending"]]]]}

    restored = transcoder().decode(json.dumps(stored).encode())

    assert restored["ref-1"].status == "sent"
    assert (restored["ref-1"].organization_id, restored["ref-1"].respond_by) == ("", None)


def test_a_referral_keeps_its_organisation_and_deadline_through_a_snapshot() -> None:
    referral = Referral("ref-1", 5, [Change(5, "sent")], False, "org-1", date(2027, 1, 5))

    assert transcoder().decode(transcoder().encode(referral)) == referral


def test_benefits_steps_stored_before_they_could_be_marked_in_error_read_as_standing() -> None:
    earlier = [
        {"_type_": "DocumentRequest", "_data_": ["req-1", 5, ["ID"], None, 6, day("2027-01-09")]},
        {
            "_type_": "Appointment",
            "_data_": ["apt-1", 7, "interview", day("2027-01-20"), "DSS", "attended", 8],
        },
    ]

    request, appointment = transcoder().decode(json.dumps(earlier).encode())
    stored = json.loads(transcoder().encode([request, appointment]))

    assert (request.provided_on, request.in_error) == (date(2027, 1, 9), False)
    assert (appointment.outcome, appointment.in_error) == ("attended", False)
    assert stored == earlier  # a standing step is stored as it was


def day(iso: str) -> dict[str, str]:
    return {"_type_": "date_iso", "_data_": iso}
