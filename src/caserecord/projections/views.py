"""Each view's tracking recorder on each store: the store's base from sql.py with the
view's schema.  The library's factory builds a tracking recorder from its class, so each
view on each store is a class of its own."""

from caserecord.projections.audit_trail import AuditTrailSchema
from caserecord.projections.benefits import BenefitsSchema
from caserecord.projections.caseload import CaseloadSchema
from caserecord.projections.client_index import ClientIndexSchema
from caserecord.projections.current_plans import CurrentPlansSchema
from caserecord.projections.referrals import ReferralsSchema
from caserecord.projections.scores import ScoresSchema
from caserecord.projections.sql import PostgresView, SQLiteView, View
from caserecord.projections.worklist import WorklistSchema


class CurrentPlansSQLiteView(SQLiteView):
    schema = CurrentPlansSchema


class CurrentPlansPostgresView(PostgresView):
    schema = CurrentPlansSchema


class CaseloadSQLiteView(SQLiteView):
    schema = CaseloadSchema


class CaseloadPostgresView(PostgresView):
    schema = CaseloadSchema


class ReferralsSQLiteView(SQLiteView):
    schema = ReferralsSchema


class ReferralsPostgresView(PostgresView):
    schema = ReferralsSchema


class AuditTrailSQLiteView(SQLiteView):
    schema = AuditTrailSchema


class AuditTrailPostgresView(PostgresView):
    schema = AuditTrailSchema


class ClientIndexSQLiteView(SQLiteView):
    schema = ClientIndexSchema


class ClientIndexPostgresView(PostgresView):
    schema = ClientIndexSchema


class WorklistSQLiteView(SQLiteView):
    schema = WorklistSchema


class WorklistPostgresView(PostgresView):
    schema = WorklistSchema


class ScoresSQLiteView(SQLiteView):
    schema = ScoresSchema


class ScoresPostgresView(PostgresView):
    schema = ScoresSchema


class BenefitsSQLiteView(SQLiteView):
    schema = BenefitsSchema


class BenefitsPostgresView(PostgresView):
    schema = BenefitsSchema


SQLITE_VIEWS: dict[str, type[View]] = {
    v.schema.name: v
    for v in (
        CurrentPlansSQLiteView,
        CaseloadSQLiteView,
        ReferralsSQLiteView,
        AuditTrailSQLiteView,
        ClientIndexSQLiteView,
        WorklistSQLiteView,
        ScoresSQLiteView,
        BenefitsSQLiteView,
    )
}
POSTGRES_VIEWS: dict[str, type[View]] = {
    v.schema.name: v
    for v in (
        CurrentPlansPostgresView,
        CaseloadPostgresView,
        ReferralsPostgresView,
        AuditTrailPostgresView,
        ClientIndexPostgresView,
        WorklistPostgresView,
        ScoresPostgresView,
        BenefitsPostgresView,
    )
}
