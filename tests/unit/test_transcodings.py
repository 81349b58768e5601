"""How the parts of a case are stored in snapshots."""

import json

from eventsourcing.persistence import JSONTranscoder

from caserecord.domain.entities import Change, Progress
from caserecord.transcodings import all_transcodings


def transcoder() -> JSONTranscoder:
    found = JSONTranscoder()
    for transcoding in all_transcodings():
        found.register(transcoding)
    return found


def test_a_part_of_a_case_is_stored_as_its_field_values_in_order() -> None:
    change = Change(7, "active", {"reason": "back"}, False)

    stored = json.loads(transcoder().encode([change]))

    assert stored == [{"_type_": "Change", "_data_": [7, "active", {"reason": "back"}, False]}]
    assert transcoder().decode(transcoder().encode([change])) == [change]


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
