"""Setting up a store (``caserecord db init``): every table the parts of caserecord use,
created once, before any worker starts (workers never run DDL).  It sits above the parts
it provisions, so none of them imports another to create its tables."""

from caserecord.access import create_access_tables
from caserecord.audit import Progress, refuse_events_behind_tree, seal_existing
from caserecord.config import Settings
from caserecord.projections.runner import create_views
from caserecord.store import index_clients, index_entries, index_feed, open_records


def init_store(settings: Settings, *, progress: Progress | None = None) -> int:
    """Create every table: the events', the API's and the read models'; on a store made by
    an earlier version, seal its existing rows (MACs and the Merkle tree) once.  Returns how
    many events it sealed."""
    app = open_records(settings, create_table=True, sealed=False)
    try:
        create_access_tables(app)  # the API's tokens and access log
        refuse_events_behind_tree(app)  # before the indexes take them in
        index_feed(app)
        index_clients(app)
        index_entries(app)
        sealed = seal_existing(app, progress=progress)
    finally:
        app.close()
    create_views(settings.eventsourcing_env(create_table=True))  # the read models
    return sealed
