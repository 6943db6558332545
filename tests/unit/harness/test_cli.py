"""``python -m harness`` in-process: bad arguments and bad settings are usage errors (exit 2,
one line, no traceback); an endpoint that stops answering mid-command is a clear error."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
from botocore.exceptions import EndpointConnectionError

import harness.runtime
from agent.journal import SessionNotFound
from harness import aws, cli
from harness.sessions import SessionReader
from harness.stack import StackOutputs

OUTPUTS = StackOutputs(
    state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:wf",
    journal_table_name="journal",
    event_bus_name="default",
    poll_interval_seconds=0.1,
    max_polls=5,
)


@pytest.fixture(autouse=True)
def isolated_main() -> Iterator[None]:
    """main() installs SIGTERM/SIGINT handlers, and the commands cache boto3 clients per
    settings (made here without credentials): give pytest its handlers back, drop the clients."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)
    aws.client.cache_clear()


def run(*argv: str) -> int:
    try:
        return cli.main(list(argv))
    except SystemExit as exited:  # argparse and bad settings stop with SystemExit
        return int(exited.code or 0)


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        ("AGENT_PORT", "abc", "an integer from 1 to 65535"),
        ("HARNESS_STARTUP_TIMEOUT", "x", "a number of seconds greater than 0"),
        ("HARNESS_RUNTIME", "foo", "one of auto, host, docker"),
        ("HARNESS_TARGET", "foo", "one of local, aws"),
    ],
)
def test_a_bad_setting_is_a_one_line_usage_error(monkeypatch, capsys, variable, value, accepted):
    monkeypatch.setenv(variable, value)
    assert run("status") == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"python -m harness: error: {variable}={value!r} is not valid: expected {accepted}\n"
    )
    assert captured.out == ""


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["-c", "foo"], "invalid choice: 'foo'"),
        (["--bogus", "status"], "unrecognized arguments: --bogus"),
        (["deploy", "-c", "foo"], "argument -c/--context: expected KEY=VALUE, got 'foo'"),
        (["deploy", "-c", "=x"], "expected KEY=VALUE, got '=x'"),
        (["watch"], "the following arguments are required: session"),
        (["trigger", "--timeout", "soon"], "argument --timeout: invalid float value: 'soon'"),
    ],
)
def test_a_bad_argument_is_a_usage_error(capsys, argv, says):
    assert run(*argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m harness")
    assert says in err
    assert "Traceback" not in err


def test_context_items_split_at_the_first_equals_sign():
    assert cli.context_item("max_polls=5") == ("max_polls", "5")
    assert cli.context_item("note=a=b") == ("note", "a=b")
    assert cli.context_item("empty=") == ("empty", "")


@pytest.fixture
def aws_credentials(monkeypatch):
    """--target aws builds clients with the shell's credentials: give it some (without them
    botocore would ask the instance metadata service, and unit tests use no network)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")


def _endpoint_down(*args, **kwargs):
    raise EndpointConnectionError(endpoint_url="http://127.0.0.1:4721/")


def test_the_endpoint_going_away_during_watch_says_what_to_do(monkeypatch, capsys):
    # GIVEN a deployed stack whose endpoint stops answering while the session is watched
    monkeypatch.setattr(StackOutputs, "load", classmethod(lambda cls, settings: OUTPUTS))
    monkeypatch.setattr(SessionReader, "item", _endpoint_down)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4721")
    # (each command imports select_runtime from harness.runtime when it runs)
    monkeypatch.setattr(harness.runtime, "select_runtime", lambda settings, report=None: None)
    # WHEN watching it
    assert run("watch", "s-1", "--timeout", "5") == 1
    # THEN one clear error: what happened, how to check, how to resume or recover
    out = " ".join(capsys.readouterr().out.split())
    assert "error: lost contact with the local runtime at http://127.0.0.1:4721" in out
    assert 'Could not connect to the endpoint URL: "http://127.0.0.1:4721/"' in out
    assert "`python -m harness status`" in out
    assert "`python -m harness watch s-1`" in out
    assert "`make up` and `make deploy`" in out
    assert "Traceback" not in out


def test_the_endpoint_going_away_in_any_command_is_a_clear_error(
    monkeypatch, capsys, aws_credentials
):
    monkeypatch.setattr(StackOutputs, "load", classmethod(lambda cls, settings: OUTPUTS))
    monkeypatch.setattr(SessionReader, "session", _endpoint_down)
    assert run("--target", "aws", "history", "s-2") == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "error: lost contact with AWS" in out
    assert "Could not connect to the endpoint URL" in out
    assert "Check the network and your credentials." in out


def test_an_unknown_session_is_a_clear_error(monkeypatch, capsys, aws_credentials):
    def no_such_session(self, session_id, arns=None):
        raise SessionNotFound(f"no session {session_id}: no journal item in journal")

    monkeypatch.setattr(StackOutputs, "load", classmethod(lambda cls, settings: OUTPUTS))
    monkeypatch.setattr(SessionReader, "session", no_such_session)
    assert run("--target", "aws", "history", "s-3") == 1
    assert "error: no session s-3: no journal item" in capsys.readouterr().out


def test_ctrl_c_while_the_settings_are_read_ends_as_interrupted(monkeypatch, capsys):
    # GIVEN a Ctrl-C that arrives while main() reads the settings (seen under load: a
    # traceback and -SIGINT instead of the usual word and 130)
    def interrupted(**kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "Settings", interrupted)
    # WHEN a command starts THEN it ends as any interrupted command does
    assert run("list") == 130
    assert "interrupted" in capsys.readouterr().out
