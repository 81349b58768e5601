"""16 writers on one case over HTTP at once: no lost update, every loser told and retried."""

import threading
from collections import Counter
from uuid import UUID

import pytest

from tests.factories import all_notes_over_http
from tests.faults.service import Service
from tests.faults.support import Seeded, rounds

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
    with seeded.service(workers=2) as service:
        for n in range(rounds(1, 10)):
            contest(service, seeded.token, case_id, f"round {n}")


def contest(service: Service, token: str, case_id: UUID, label: str) -> None:
    """All writers POST against the same ETag at once; the losers retry until they land."""
    path = f"/v1/cases/{case_id}/notes"
    outcome: dict[str, list[int]] = {}
    texts = [f"{label} writer {i}" for i in range(WRITERS)]
    with service.client(token) as http:
        before = http.get(f"/v1/cases/{case_id}").json()
    start = threading.Barrier(WRITERS, timeout=60)
    threads = [
        threading.Thread(target=write_with_retry, args=(service, token, path, text, start, outcome))
        for text in texts
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    with service.client(token) as http:
        after = http.get(f"/v1/cases/{case_id}").json()
        notes = all_notes_over_http(http, case_id)

    assert len(outcome) == WRITERS
    assert all(s and 200 <= s[-1] < 300 for s in outcome.values()), outcome
    failures = Counter(code for s in outcome.values() for code in s[:-1])
    assert set(failures) <= {409, 412}, failures
    first_try_winners = [text for text, s in outcome.items() if len(s) == 1]
    assert len(first_try_winners) == 1, "one If-Match version can be written only once"
    assert after["version"] == before["version"] + WRITERS
    recorded = sorted(n["text"] for n in notes if n["text"].startswith(label + " "))
    assert recorded == sorted(texts)
