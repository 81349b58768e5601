from caserecord.application import CaseRecords
from caserecord.domain.recording import Actor
from tests.factories import an_open_case


def test_an_opened_case_reads_back_on_both_stores(records: CaseRecords, worker: Actor) -> None:
    case_id = an_open_case(records, worker)

    case = records.get_case(worker, case_id)

    assert case["status"] == "open"
    assert case["version"] == 1
    assert all(v.ok for v in records.verify_case(worker, case_id))
