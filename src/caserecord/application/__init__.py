"""The service layer: ``CaseRecords`` and what its callers use with it.

- ``service``: ``CaseRecords``, assembled from one mixin per job:
- ``clients``, ``cases``, ``plans``: the commands; ``identity``: duplicate checks;
  ``writes``: the write path (load, run, save, retry);
- ``case_view``: a record, or one part of it, as plain data; ``pages``: keyset pages;
- ``integrity``: hash chain and snapshot checks, export;
- ``replay``: the projector and repository; ``base``: what all of them share.
"""

from caserecord.application.base import CommandResult, Options, new_id, one_read
from caserecord.application.integrity import compare_snapshot, snapshot_state, upcast_state
from caserecord.application.pages import keyset_page
from caserecord.application.plans import KEEP, Unchanged
from caserecord.application.replay import CaseRepository, project, project_keeping
from caserecord.application.service import CaseRecords

__all__ = [
    "KEEP",
    "CaseRecords",
    "CaseRepository",
    "CommandResult",
    "Options",
    "Unchanged",
    "compare_snapshot",
    "keyset_page",
    "new_id",
    "one_read",
    "project",
    "project_keeping",
    "snapshot_state",
    "upcast_state",
]
