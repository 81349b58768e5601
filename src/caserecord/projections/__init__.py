"""Read models: views of the event log kept in the same database as the events.

``ProjectionService(settings)`` runs them (``start``/``stop``), lets a writer wait for its
own write (``wait``) and answers queries through ``queries`` (a :class:`ReadModels`).

Running them:

* Each view keeps its own position (a tracking table) and commits every update with it, so
  a view is updated exactly once per event, whoever runs it and however it was stopped.
* Inside the service (``CASERECORD_RUN_PROJECTIONS``, the default) or alone with
  ``caserecord projections run``.  One process at a time runs them: each asks for a lock
  (``runner_lock.py``) and the others stand by (``supervisor.py``), serve reads and take
  over within ``CASERECORD_PROJECTION_LOCK_RETRY`` seconds if the holder dies.  Two runners of
  the same view at once (for a moment, or ``projections run --once`` beside the service)
  are still safe: whoever applies a position first wins and the other skips it.
* ``caserecord db init`` creates the view tables; runners never run DDL.
  ``caserecord projections rebuild`` drops and recreates them (an operator task: stop the
  runners first), ``digest`` prints a hash of each view to compare two ways of
  building it, and ``verify`` rebuilds them into a scratch copy and names every row that
  differs (``compare.py``).
* A stream a view cannot apply an event of is quarantined, not applied half-way, and the
  view carries on with every other (``base.py``, ``persistence/quarantine.py``).
"""

from caserecord.projections.queries import ReadModels
from caserecord.projections.runner import PROJECTIONS
from caserecord.projections.service import ProjectionService, ReadModelTimeoutError

VIEW_NAMES = tuple(PROJECTIONS)

__all__ = ["VIEW_NAMES", "ProjectionService", "ReadModelTimeoutError", "ReadModels"]
