"""16 writers on one case over HTTP at once: no lost update, every loser told and retried."""

import threading
from collections import Counter

import pytest

from tests.faults.conftest import Seeded
from tests.faults.service import Service

WRITERS = 16
MAX_TRIES = 200


def write_with_retry(
    service: Service,
    token: str,
    path: str,
    text: str,
    start: threading.Barrier,
    outcome: dict[str, list[int]],
) -> None:
    statuses: list[int] = []
    outcome[text] = statuses
    with service.client(token) as http:
        etag = http.get(path.removesuffix("/notes")).headers["ETag"]
        start.wait()  # everyone writes against the same version at the same moment
        for _ in range(MAX_TRIES):
            response = http.post(
                path,
                json={"text": text, "contact_kind": "client", "contact_mode": "phone"},
                headers={"If-Match": etag},
            )
            statuses.append(response.status_code)
            if response.is_success:
                return
            assert response.headers["content-type"].startswith("application/problem+json")
            etag = http.get(path.removesuffix("/notes")).headers["ETag"]


@pytest.mark.slow
def test_sixteen_concurrent_writers_on_one_case_lose_no_update(seeded: Seeded) -> None:
    case_id = seeded.cases[0]
    path = f"/v1/cases/{case_id}/notes"
    outcome: dict[str, list[int]] = {}
    with seeded.service(workers=2) as service:
        with service.client(seeded.token) as http:
            before = http.get(f"/v1/cases/{case_id}").json()
        start = threading.Barrier(WRITERS, timeout=60)
        threads = [
            threading.Thread(
                target=write_with_retry,
                args=(service, seeded.token, path, f"writer {i}", start, outcome),
            )
            for i in range(WRITERS)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        with service.client(seeded.token) as http:
            after = http.get(f"/v1/cases/{case_id}").json()

    statuses = outcome
    assert len(statuses) == WRITERS
    assert all(s and 200 <= s[-1] < 300 for s in statuses.values()), statuses
    failures = Counter(code for s in statuses.values() for code in s[:-1])
    assert set(failures) <= {409, 412}, failures
    first_try_winners = [text for text, s in statuses.items() if len(s) == 1]
    assert len(first_try_winners) == 1, "one If-Match version can be written only once"
    assert after["version"] == before["version"] + WRITERS
    texts = sorted(n["text"] for n in after["notes"])
    assert texts == sorted(f"writer {i}" for i in range(WRITERS))
