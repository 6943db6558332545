"""The CLI's help is complete: every option says what it does; --fault lists its values."""

from __future__ import annotations

import argparse
import io

from agent.testing.faults import Fault
from harness import cli


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_of_every_command_has_a_description():
    parser = cli.build_parser()
    missing = []
    for name, sub in {"": parser, **_subparsers(parser)}.items():
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, missing


def test_trigger_help_names_the_task_default_and_the_faults():
    trigger = _subparsers(cli.build_parser())["trigger"]
    text = io.StringIO()
    trigger.print_help(text)
    help_text = " ".join(text.getvalue().split())
    assert "default: the TASK environment variable" in help_text
    for fault in Fault:
        assert fault.value in help_text


def test_the_cli_offers_exactly_the_agents_faults():
    assert set(cli.FAULTS) == {fault.value for fault in Fault}


def test_piped_output_is_never_wrapped():
    assert not cli.console().is_terminal  # pytest captures stdout
    assert cli.console().width >= 10_000
    assert cli.console().soft_wrap


def test_verbose_after_the_command_and_before_it():
    parser = cli.build_parser()
    assert parser.parse_args(["watch", "x", "--verbose"]).verbose is True
    assert parser.parse_args(["-v", "watch", "x"]).verbose is True
    assert parser.parse_args(["watch", "x"]).verbose is False
