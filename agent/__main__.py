"""One-shot run: ``python -m agent --session-id ID --task "..."`` (session id defaults to
SESSION_ID, table to JOURNAL_TABLE_NAME). The session must already be INITIATED in the journal,
as the workflow's InitializeSession writes it. Exit status 0 on COMPLETED, 1 otherwise."""

from __future__ import annotations

import argparse
import sys

from agent.doubles import TestDoublesMissing, check_available
from agent.environment import SettingError, exit_on
from agent.logs import configure_logging
from agent.settings import AgentSettings
from contract import SessionStatus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent", description=__doc__)
    parser.add_argument("--session-id", help="default: $SESSION_ID")
    parser.add_argument("--task", required=True)
    parser.add_argument("--table", help="default: $JOURNAL_TABLE_NAME")
    args = parser.parse_args(argv)
    try:
        settings = AgentSettings.from_env()
    except SettingError as error:
        exit_on(error, parser.prog)
    session_id = args.session_id or settings.session_id
    table = args.table or settings.journal_table_name
    if not session_id:
        parser.error("a session id is needed: --session-id or SESSION_ID")
    if not table:
        parser.error("a journal table is needed: --table or JOURNAL_TABLE_NAME")
    try:
        check_available(settings)
    except TestDoublesMissing as missing:
        raise SystemExit(f"error: {missing}") from None
    configure_logging()
    # Imported once the settings and arguments are good (the AWS SDK, Strands: ~0.5 CPU-s).
    from agent.journal import Journal
    from agent.runner import run_session

    journal = Journal(table)
    status = run_session(session_id, args.task, settings, journal=journal)
    item = journal.get(session_id) or {}
    outcome = item.get("result") or item.get("error") or ""
    print(f"session {session_id}: {status} {outcome}".rstrip())
    return 0 if status == SessionStatus.COMPLETED else 1


if __name__ == "__main__":
    sys.exit(main())
