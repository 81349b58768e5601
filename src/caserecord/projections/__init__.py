"""Read models: views of the event log kept in the same database as the events.

``ProjectionService(settings)`` runs them (``start``/``stop``), lets a writer wait for its
own write (``wait``) and answers queries through ``queries`` (a :class:`ReadModels`).

Running them:

* Each view keeps its own position (a tracking table) and commits every update with it, so
  a view is updated exactly once per event, whoever runs it and however it was stopped.
* Inside the service (``CASERECORD_RUN_PROJECTIONS``, the default) or alone with
  ``caserecord projections run``.  Several runners of the same view (say two API workers)
  are safe: whoever applies a position first wins and the other skips it; they only
  duplicate work, so with several workers prefer one ``projections run`` process and
  ``CASERECORD_RUN_PROJECTIONS=false`` on the workers.
* ``caserecord db init`` creates the view tables; runners never run DDL.
  ``caserecord projections rebuild`` drops and recreates them (an operator task: stop the
  runners first), and ``digest`` prints a hash of each view to compare two ways of
  building it.
"""

from caserecord.projections.queries import ReadModels
from caserecord.projections.runner import PROJECTIONS
from caserecord.projections.service import ProjectionService, ReadModelTimeoutError

VIEW_NAMES = tuple(PROJECTIONS)

__all__ = ["VIEW_NAMES", "ProjectionService", "ReadModelTimeoutError", "ReadModels"]
