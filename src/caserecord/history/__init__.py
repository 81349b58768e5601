"""A case's history from the event log itself: the timeline (timeline.py), the case "as
of" a moment on the recorded and effective time axes (as_of.py) and the difference
between two moments (diff.py).  Versions are found by time through the audit trail view
where it has them and the log for the rest (index.py); every event read from the log is
decoded so that a damaged one is named by its stream and version (log.py).
"""

from caserecord.history.as_of import case_as_of, page_as_of, reading_day, state_as_of
from caserecord.history.diff import case_diff
from caserecord.history.log import decoded_events
from caserecord.history.timeline import (
    Hole,
    Key,
    Timeline,
    case_timeline,
    checked_timeline,
    missing_versions,
    timeline_key,
)

__all__ = [
    "Hole",
    "Key",
    "Timeline",
    "case_as_of",
    "case_diff",
    "case_timeline",
    "checked_timeline",
    "decoded_events",
    "missing_versions",
    "page_as_of",
    "reading_day",
    "state_as_of",
    "timeline_key",
]
