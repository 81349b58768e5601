"""Queries over the views: plain dicts out, always within one agency (the tenant)."""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from caserecord.projections import audit_trail as audit
from caserecord.projections import benefits, scores
from caserecord.projections import caseload as load
from caserecord.projections import client_index as clients
from caserecord.projections import current_plans as plans
from caserecord.projections import referrals as tracker
from caserecord.projections import worklist as work
from caserecord.projections.sql import Database, WaitingFirst


class ReadModels:
    def __init__(self, db: Database) -> None:
        self.db = db

    def waiting_first(self, first: Callable[[], None]) -> "ReadModels":
        """These read models for one read, which runs ``first`` before its first query."""
        return ReadModels(WaitingFirst(self.db, first))

    def current_plan(self, agency_id: str, case_id: UUID) -> dict[str, Any] | None:
        return plans.current_plan(self.db, agency_id, case_id)

    def caseload(
        self,
        agency_id: str,
        *,
        case_manager_id: str | None = None,
        specialty: str | None = None,
        review_overdue: bool | None = None,
        status: str | None = None,
        sort: str = "last_contact",
        after: tuple[str, ...] | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        return load.caseload(
            self.db,
            agency_id,
            case_manager_id=case_manager_id,
            specialty=specialty,
            review_overdue=review_overdue,
            status=status,
            sort=sort,
            after=after,
            limit=limit,
        )

    def referrals(
        self,
        agency_id: str,
        *,
        status: str | None = None,
        overdue: bool | None = None,
        organisation: str | None = None,
        case_id: UUID | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        return tracker.referrals(
            self.db,
            agency_id,
            status=status,
            overdue=overdue,
            organisation=organisation,
            case_id=case_id,
            after=after,
            limit=limit,
        )

    def benefit_applications(
        self,
        agency_id: str,
        *,
        status: str | None = None,
        program: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        return benefits.benefit_applications(
            self.db, agency_id, status=status, program=program, after=after, limit=limit
        )

    def referral_outcomes(
        self, agency_id: str, *, after: tuple[str, str] | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        return tracker.referral_outcomes(self.db, agency_id, after=after, limit=limit)

    def open_referrals(
        self,
        agency_id: str,
        *,
        organization_id: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        return tracker.open_referrals(
            self.db, agency_id, organization_id=organization_id, after=after, limit=limit
        )

    def referral_stats(
        self,
        agency_id: str,
        by: str,
        *,
        after: tuple[str, ...] | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        return tracker.referral_stats(self.db, agency_id, by, after=after, limit=limit)

    def provider_referrals(
        self,
        agency_id: str,
        organization_id: str,
        *,
        after: tuple[str, str] | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        return tracker.provider_referrals(
            self.db, agency_id, organization_id, after=after, limit=limit
        )

    def provider_referral(
        self, agency_id: str, organization_id: str, referral_id: str
    ) -> dict[str, Any] | None:
        return tracker.provider_referral(self.db, agency_id, organization_id, referral_id)

    def audit_trail(
        self,
        agency_id: str,
        *,
        case_id: UUID | None = None,
        client_id: UUID | None = None,
        actor_id: str | None = None,
        event_type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        return audit.audit_trail(
            self.db,
            agency_id,
            case_id=case_id,
            client_id=client_id,
            actor_id=actor_id,
            event_type=event_type,
            since=since,
            until=until,
            after=after,
            limit=limit,
        )

    def search_clients(
        self,
        agency_id: str,
        *,
        name: str | None = None,
        date_of_birth: date | None = None,
        client_number: str | None = None,
        after: tuple[str, str, str] | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        return clients.search_clients(
            self.db,
            agency_id,
            name=name,
            date_of_birth=date_of_birth,
            client_number=client_number,
            after=after,
            limit=limit,
        )

    def worklist(
        self,
        agency_id: str,
        *,
        owner_id: str | None,
        standards: dict[str, int],
        window: work.Window = work.ALL,
        after: tuple[str, str] | None = None,
        limit: int = 50,
        case_id: UUID | None = None,
    ) -> list[dict[str, Any]]:
        return work.worklist(
            self.db,
            agency_id,
            owner_id=owner_id,
            standards=standards,
            window=window,
            after=after,
            limit=limit,
            case_id=case_id,
        )

    def worklist_summary(
        self,
        agency_id: str,
        *,
        standards: dict[str, int],
        after: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        return work.worklist_summary(
            self.db, agency_id, standards=standards, after=after, limit=limit
        )

    def client_scores(
        self,
        agency_id: str,
        client_id: UUID,
        instrument: str | None = None,
        *,
        after: tuple[str, str, int] | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        return scores.client_scores(
            self.db, agency_id, client_id, instrument, after=after, limit=limit
        )

    def safety_flags(
        self,
        agency_id: str,
        *,
        case_manager_id: str | None = None,
        after: tuple[str, str, int] | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Safety flags still due in the agency (the worklist's due items), oldest first."""
        return scores.safety_flags(
            self.db, agency_id, case_manager_id=case_manager_id, after=after, limit=limit
        )
