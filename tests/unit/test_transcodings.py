"""How the parts of a case are stored in snapshots."""

import json

from eventsourcing.persistence import JSONTranscoder

from caserecord.domain.entities import Change, Progress, Referral
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
    referral = Referral("ref-1", 5, [Change(5, "pending"), Change(6, "accepted")])

    stored = json.loads(transcoder().encode(referral))

    assert stored == {
        "_type_": "Referral",
        "_data_": ["ref-1", 5, [[5, "pending"], [6, "accepted"]]],
    }
    assert transcoder().decode(transcoder().encode(referral)) == referral


def test_a_status_history_stored_as_separate_parts_still_reads() -> None:
    earlier = {
        "_type_": "Referral",
        "_data_": ["ref-1", 5, [{"_type_": "Change", "_data_": [5, "pending", {}, False]}]],
    }

    decoded = transcoder().decode(json.dumps(earlier).encode())

    assert decoded == Referral("ref-1", 5, [Change(5, "pending")])
