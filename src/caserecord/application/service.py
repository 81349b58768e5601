"""The CaseRecords service: commands in (plain values and the actor), plain data out."""

from caserecord.application.benefits import BenefitCommands
from caserecord.application.case_view import CaseView
from caserecord.application.cases import CaseCommands
from caserecord.application.clients import ClientCommands
from caserecord.application.directory import DirectoryCommands
from caserecord.application.disclosures import DisclosureCommands
from caserecord.application.exports import CaseExports
from caserecord.application.instruments import InstrumentCommands
from caserecord.application.integrity import Integrity
from caserecord.application.pages import Pages
from caserecord.application.plans import PlanCommands
from caserecord.application.tasks import TaskCommands
from caserecord.application.team import CareTeams


class CaseRecords(
    ClientCommands,
    CaseExports,
    DisclosureCommands,
    CaseCommands,
    CareTeams,
    PlanCommands,
    TaskCommands,
    BenefitCommands,
    InstrumentCommands,
    DirectoryCommands,
    CaseView,
    Pages,
    Integrity,
):
    """One application, one mixin per job (each in its own module, all over ``RecordsBase``):
    client and case commands share the write path (``writes``); reads, pages and integrity
    checks share the loading and event reading of ``base``."""
