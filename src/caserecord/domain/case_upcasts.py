"""How a stored snapshot of an older ``Case`` class version reads as the current one: the
library calls ``Case.upcast_vN_vM`` on the snapshot's state, step by step, before it builds
the aggregate (the service checks stored snapshots the same way)."""

from typing import Any

from caserecord.domain.entities import Ledger, Referrals


def v1_v2(state: dict[str, Any]) -> None:
    """Snapshots taken when the state held whole notes."""
    notes = state["notes"]
    state["notes"] = {note_id: note.version for note_id, note in notes.items()}
    state["notes_set_aside"] = sum(1 for note in notes.values() if note.in_error)
    state["addenda"] = {
        note_id: [a.version for a in note.addenda]
        for note_id, note in notes.items()
        if note.addenda
    }


def v2_v3(state: dict[str, Any]) -> None:
    """Snapshots taken when goals held their progress whole (referrals shed their
    content as they decode: ``Referral.from_version_2``)."""
    for goal in state["goals"].values():
        goal.progress = [p.version for p in goal.progress]


def v3_v4(state: dict[str, Any]) -> None:
    """Snapshots taken when referrals were a dict, each stored as its own part."""
    state["referrals"] = Referrals(state["referrals"].values())


def v4_v5(state: dict[str, Any]) -> None:
    """Snapshots taken when the indexes were plain dicts and lists."""
    state["notes"] = Ledger(state["notes"].items())
    state["addenda"] = Ledger((i, tuple(v)) for i, v in state["addenda"].items())
    located: list[tuple[int, tuple[str, str]]] = []
    located += [(v, ("note", i)) for i, v in state["notes"].items()]
    located += [(v, ("addendum", i)) for i, vs in state["addenda"].items() for v in vs]
    for goal in state["goals"].values():
        goal.progress = Ledger((v, None) for v in goal.progress)
        located += [(v, ("progress", goal.goal_id)) for v in goal.progress]
    state["located"] = Ledger(sorted(located))


def v5_v6(state: dict[str, Any]) -> None:
    """Snapshots taken when the case kept the index of its notes, addenda and progress
    (the entry index holds it now)."""
    state["notes_recorded"] = len(state.pop("notes"))
    for name in ("addenda", "located", "notes_set_aside"):
        state.pop(name)
    for goal in state["goals"].values():
        goal.progress = len(goal.progress)


def v6_v7(state: dict[str, Any]) -> None:
    """Snapshots taken before cases held tasks."""
    state["tasks"] = {}


def v7_v8(state: dict[str, Any]) -> None:
    """Snapshots taken before instruments were administered on cases."""
    state["safety_flags"] = []


def v8_v9(state: dict[str, Any]) -> None:
    """Snapshots taken before cases had a care team and transfers."""
    state["care_team"] = {}
    state["transfers"] = []


def v9_v10(state: dict[str, Any]) -> None:
    """Snapshots taken before entries carried sensitivity labels of their own."""
    state["entry_labels"] = {}


def v10_v11(state: dict[str, Any]) -> None:
    """Snapshots taken before cases held benefits applications."""
    state["benefit_applications"] = {}


def v11_v12(state: dict[str, Any]) -> None:
    """Snapshots taken before break-glass reads were recorded on cases."""
    state["break_glass_reads"] = []


def goal_v1_v2(state: dict[str, Any]) -> None:
    """Goal events recorded before goals had a priority, a need and a measure."""
    state.setdefault("priority", "")
    state.setdefault("need", "")
    state.setdefault("measure", None)
