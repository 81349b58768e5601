"""Read models: views of the event log kept in the same database as the events.

``ProjectionService(settings)`` runs them (``start``/``stop``), lets a writer wait for its
own write (``wait``) and answers queries through ``queries`` (a :class:`ReadModels`).
"""

from caserecord.projections.queries import ReadModels
from caserecord.projections.runner import PROJECTIONS
from caserecord.projections.service import ProjectionService, ReadModelTimeoutError

VIEW_NAMES = tuple(PROJECTIONS)

__all__ = ["VIEW_NAMES", "ProjectionService", "ReadModelTimeoutError", "ReadModels"]
