import os
import subprocess
import sys
from pathlib import Path

from caserecord.application import CaseRecords
from caserecord.domain.recording import Actor
from tests.factories import an_open_case


def test_an_opened_case_reads_back_on_both_stores(records: CaseRecords, worker: Actor) -> None:
    case_id = an_open_case(records, worker)

    case = records.get_case(worker, case_id)

    assert case["status"] == "open"
    assert case["version"] == 1
    assert all(v.ok for v in records.verify_case(worker, case_id))


def test_the_embedded_default_store_is_a_sqlite_file_created_by_db_init(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASERECORD_")}
    cli = Path(sys.executable).parent / "caserecord"

    done = subprocess.run(
        [str(cli), "db", "init"], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.strip() == "initialised sqlite:///./var/caserecord.db"
    assert (tmp_path / "var" / "caserecord.db").stat().st_size > 0
