"""Commands and reads of a case's explicit tasks: who owns the work, when it is due, and
the part of the case it concerns."""

from datetime import date
from typing import Any, Unpack
from uuid import UUID

from caserecord.application.base import CommandResult, Options, new_id
from caserecord.application.need_to_know import NeedToKnow, Reading
from caserecord.application.pages import keyset_page
from caserecord.application.staff import StaffDirectory
from caserecord.domain.case import Case
from caserecord.domain.entities import Task
from caserecord.domain.errors import TaskNotFoundError
from caserecord.domain.recording import Actor
from caserecord.domain.values import TaskConcerns
from caserecord.presenters import task_to_dict


class TaskCommands(StaffDirectory, NeedToKnow):
    """Creating, completing, reassigning and cancelling tasks; reading them."""

    def create_task(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        title: str,
        owner_id: str,
        due_on: date,
        concerns: str = TaskConcerns.CASE.value,
        concerns_id: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        # A task owned by no one in the directory would be on no one's worklist.
        self._check_manager(actor, owner_id, "owner_id")
        task_id = new_id()

        def create(c: Case) -> None:
            note = self.entries(c).note(concerns_id) if concerns == TaskConcerns.NOTE else None
            c.create_task(task_id, title, owner_id, due_on, concerns, concerns_id, note)

        return self._update_case(actor, case_id, opts, create, task_id)

    def complete_task(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        task_id: str,
        outcome: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_case(actor, case_id, opts, lambda c: c.complete_task(task_id, outcome))

    def reassign_task(
        self, actor: Actor, case_id: UUID, *, task_id: str, owner_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        self._check_manager(actor, owner_id, "owner_id")
        return self._update_case(actor, case_id, opts, lambda c: c.reassign_task(task_id, owner_id))

    def cancel_task(
        self, actor: Actor, case_id: UUID, *, task_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_case(actor, case_id, opts, lambda c: c.cancel_task(task_id, reason))

    # ---- reads ---------------------------------------------------------------------
    def get_task(self, actor: Actor, case_id: UUID, task_id: str) -> dict[str, Any]:
        case = self._case(actor, case_id)
        task = case.tasks.get(task_id)
        if task is None or task.in_error:
            raise TaskNotFoundError(f"no task {task_id} on this case")
        found = self.reading(actor, case).entry(task_to_dict(case_id, task))
        return found | {"case_version": case.version}

    def case_tasks(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        limit: int,
        before: int | None = None,
        version: int | None = None,
    ) -> dict[str, Any]:
        """A page of the case's tasks, latest created first."""
        case = self._case(actor, case_id, version)
        reading = self.reading(actor, case if version is None else self._case(actor, case_id))
        page = self.task_page(case, limit=limit, before=before, reading=reading)
        return page | {"case_version": case.version}

    def task_page(
        self, case: Case, *, limit: int, before: int | None = None, reading: Reading | None = None
    ) -> dict[str, Any]:
        """``reading``: the reader's, whose need to know redacts the tasks (none: whole)."""
        standing: list[Task] = [t for t in case.tasks.values() if not t.in_error]
        page, next_before = keyset_page(reversed(standing), lambda t: t.version, limit, before)
        items = [task_to_dict(case.id, t) for t in page]
        return {
            "items": items if reading is None else [reading.entry(t) for t in items],
            "task_count": len(standing),
            "next_before": next_before,
        }
