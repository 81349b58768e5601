"""Running caserecord in another process, on this checkout's source and a given store."""

import os
import sys
from pathlib import Path

from caserecord.config import Settings

CASERECORD = str(Path(sys.executable).with_name("caserecord"))

# Records one client and one case, then `NOTES` notes; prints the last position.
WRITER = """
import sys
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.store import open_records
from tests.factories import an_open_case

app = open_records(Settings())
actor = Actor(sys.argv[1], "caseworker", "agency-a")
case_id = an_open_case(app, actor)
for i in range(int(sys.argv[2])):
    result = app.record_note(
        actor, case_id, text=f"note {i}", contact_kind="client", contact_mode="phone"
    )
print(result.position)
app.close()
"""


def env_for(settings: Settings) -> dict[str, str]:
    root = str(Path(__file__).parents[2])
    # The source tree of this checkout first: the venv may point at another one.
    path = os.pathsep.join([str(Path(root) / "src"), root])
    return os.environ | {"CASERECORD_DATABASE_URL": settings.database_url, "PYTHONPATH": path}
