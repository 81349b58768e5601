"""CPU per event of the live views in one process: eight view projections, each decoding
the event, folding its case and committing on its own (as eight runners did), against one
``SharedProjection`` (one decode and fold, one transaction for all the views).  200 notes on
20 warm cases; the first 20 events of each half warm the folds and connections.

    PYTHONPATH=src:. python -m benchmarks.view_cpu sqlite|postgres
"""

import sys
import time
from collections.abc import Callable

from eventsourcing.persistence import InfrastructureFactory, Notification, Tracking
from eventsourcing.utils import Environment

from benchmarks.bench_commands import ACTOR, open_case
from benchmarks.common import temp_store
from caserecord.application import CaseRecords
from caserecord.projections.base import Folder, ViewProjection
from caserecord.projections.runner import (
    APPLICATION_NAME,
    PROJECTIONS,
    construct_view,
    latest_for,
    loader_for,
    reader_for,
    view_class,
)
from caserecord.projections.service import ProjectionService, service_env
from caserecord.projections.shared import SharedProjection
from caserecord.projections.sql import View
from caserecord.store import open_records

WARM = 20


def members(records: CaseRecords, make: Callable[[str], View]) -> dict[str, ViewProjection]:
    found = {}
    for name in PROJECTIONS:
        view = make(name)
        projection = PROJECTIONS[name](
            view=view,
            loader=loader_for(records),
            reader=reader_for(records),
            latest=latest_for(records),
        )
        projection.position = view.max_tracking_id(APPLICATION_NAME) or 0
        found[name] = projection
    return found


def cpu_per_event(events: list[Notification], apply: Callable[[Notification], None]) -> float:
    for n in events[:WARM]:
        apply(n)
    measured = events[WARM:]
    start = time.process_time()
    for n in measured:
        apply(n)
    return (time.process_time() - start) / len(measured) * 1e3


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    with temp_store(kind, "view_cpu") as settings:
        records = open_records(settings)
        try:
            cases = [open_case(records) for _ in range(20)]
            service = ProjectionService(settings)
            service.catch_up()
            service.close()
            start = records.recorder.max_notification_id() or 0
            for _ in range(10):
                for case in cases:
                    records.record_note(
                        ACTOR, case, text="Phoned.", contact_kind="client", contact_mode="phone"
                    )
            events = records.recorder.select_notifications(start, 1000, inclusive_of_start=False)
            half = len(events) // 2
            env = service_env(settings)

            apart = members(records, lambda name: construct_view(name, env))

            def each_alone(n: Notification) -> None:
                for projection in apart.values():
                    event = records.mapper.to_domain_event(n)  # each runner decoded it
                    projection.process_event(event, Tracking(APPLICATION_NAME, n.id))

            alone_ms = cpu_per_event(list(events[:half]), each_alone)
            # Made now: each view's position is where the views alone left it.
            factory = InfrastructureFactory.construct(env=Environment("views", env))

            def on_one_datastore(name: str) -> View:
                view = factory.tracking_recorder(view_class(name, env))
                assert isinstance(view, View)
                return view

            together = members(records, on_one_datastore)
            folder = Folder(
                loader_for(records), reader=reader_for(records), latest=latest_for(records)
            )
            for projection in together.values():
                projection.folder = folder
            shared = SharedProjection(together["audit_trail"].view, together, start=0)

            def all_at_once(n: Notification) -> None:
                shared.process_event(
                    records.mapper.to_domain_event(n), Tracking(APPLICATION_NAME, n.id)
                )

            shared_ms = cpu_per_event(list(events[half:]), all_at_once)
            print(
                f"{kind}: CPU per event, eight views: each alone {alone_ms:.2f} ms, "
                f"one shared runner {shared_ms:.2f} ms"
            )
        finally:
            records.close()


if __name__ == "__main__":
    main()
