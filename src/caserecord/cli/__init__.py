"""The `caserecord` command line. Every failure is one line on stderr and a non-zero exit."""

import sys

import typer

from caserecord.cli import chain as chain_cli
from caserecord.cli import db
from caserecord.cli import demo as demo_cli
from caserecord.cli import directory as directory_cli
from caserecord.cli import projections as projections_cli
from caserecord.cli import serve as serve_cli
from caserecord.cli import staff as staff_cli
from caserecord.cli import timeline as timeline_cli
from caserecord.cli import tokens as tokens_cli
from caserecord.config import ConfigError
from caserecord.domain.errors import DomainError
from caserecord.store import StoreError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(db.app, name="db")
app.command("verify")(db.verify)
app.add_typer(projections_cli.app, name="projections")
app.command("timeline")(timeline_cli.timeline)
app.command("serve")(serve_cli.serve)
app.command("demo")(demo_cli.demo)
app.add_typer(tokens_cli.app, name="tokens")
app.add_typer(staff_cli.app, name="staff")
app.add_typer(directory_cli.app, name="directory")
app.add_typer(chain_cli.app, name="chain")


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except (StoreError, ConfigError) as e:
        print(f"caserecord: {e}", file=sys.stderr)
        sys.exit(1)
    except DomainError as e:
        print(f"caserecord: {e.message} [{e.code}]", file=sys.stderr)
        sys.exit(1)
    except typer.Abort:
        sys.exit(130)
    except Exception as e:  # the CLI's last line of defence: one line, never a traceback
        show = getattr(e, "show", None)
        if callable(show):  # typer's own usage errors already read well
            show()
            sys.exit(int(getattr(e, "exit_code", 2)))
        print(f"caserecord: unexpected error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    # Outside standalone mode click hands back a command's `Exit` code instead of exiting.
    if isinstance(code, int) and code:
        sys.exit(code)
