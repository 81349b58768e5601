"""Who took part in a contact a note records, where, for how long, whether it happened,
and which goals and referrals of the case it concerns: the values a version 2 note adds."""

from dataclasses import dataclass, field
from typing import Any

from caserecord.domain.errors import InvalidValueError
from caserecord.domain.values import LONGEST_CONTACT, ContactStatus, parse, text_list


@dataclass(frozen=True)
class Contact:
    client_participated: bool = False
    support_contact_ids: list[str] = field(default_factory=list)
    providers: list[dict[str, str]] = field(default_factory=list)
    staff_ids: list[str] = field(default_factory=list)
    location: str = ""
    duration_minutes: int | None = None
    contact_status: str = ContactStatus.HAPPENED.value
    goal_ids: list[str] = field(default_factory=list)
    referral_ids: list[str] = field(default_factory=list)

    @property
    def verb(self) -> str:
        return "was attempted" if self.contact_status == ContactStatus.ATTEMPTED else "happened"

    def check_values(self) -> None:
        if not isinstance(self.client_participated, bool):
            raise InvalidValueError("client_participated must be true or false")
        parse(ContactStatus, self.contact_status, "contact_status")
        for name in ("support_contact_ids", "staff_ids", "goal_ids", "referral_ids"):
            ids = text_list(getattr(self, name), name)
            if any(not i.strip() for i in ids):
                raise InvalidValueError(f"{name} cannot hold a blank id")
            if len(set(ids)) != len(ids):
                raise InvalidValueError(f"{name} names an id more than once")
        check_providers(self.providers)
        if not isinstance(self.location, str):
            raise InvalidValueError("location must be text")
        minutes = self.duration_minutes
        if minutes is not None and (
            isinstance(minutes, bool)
            or not isinstance(minutes, int)
            or not 0 <= minutes <= LONGEST_CONTACT
        ):
            raise InvalidValueError(
                f"duration_minutes is a whole number from 0 to {LONGEST_CONTACT} (got {minutes!r})"
            )

    def event_values(self) -> dict[str, Any]:
        return {
            "client_participated": self.client_participated,
            "support_contact_ids": list(self.support_contact_ids),
            "providers": [
                {"name": p["name"], "organisation": p.get("organisation", "")}
                for p in self.providers
            ],
            "staff_ids": list(self.staff_ids),
            "location": self.location,
            "duration_minutes": self.duration_minutes,
            "contact_status": str(self.contact_status),
            "goal_ids": list(self.goal_ids),
            "referral_ids": list(self.referral_ids),
        }


def check_providers(providers: object) -> None:
    if not isinstance(providers, list | tuple):
        raise InvalidValueError("providers must be a list")
    for i, provider in enumerate(providers):
        if not isinstance(provider, dict):
            raise InvalidValueError(f"providers[{i}] must be an object")
        name, organisation = provider.get("name"), provider.get("organisation", "")
        if not isinstance(name, str) or not name.strip():
            raise InvalidValueError(f"providers[{i}].name is required")
        if not isinstance(organisation, str):
            raise InvalidValueError(f"providers[{i}].organisation must be text")
        unknown = sorted(set(provider) - {"name", "organisation"})
        if unknown:
            raise InvalidValueError(f"providers[{i}] has unknown fields: {', '.join(unknown)}")
