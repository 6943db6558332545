"""``python -m harness``: the command line people use (prints for people, with rich)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from harness.errors import HarnessError
from harness.runtime import ComposeRuntime, HostRuntime, select_runtime
from harness.settings import Settings

console = Console(stderr=False, highlight=False)
Command = Callable[[argparse.Namespace, Settings], int]
COMMANDS: dict[str, Command] = {}
SERVICES = ("localstack", "agent", "agentcore-standin")


def command(name: str) -> Callable[[Command], Command]:
    def register(function: Command) -> Command:
        COMMANDS[name] = function
        return function

    return register


def report(message: str) -> None:
    console.print(f"[dim]•[/dim] {message}")


@command("up")
def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    runtime = select_runtime(settings, report)
    console.print(f"[bold]Starting the local runtime[/bold] ({runtime.mode} mode)")
    runtime.up(args.service)
    print_status(runtime)
    return 0


@command("down")
def cmd_down(args: argparse.Namespace, settings: Settings) -> int:
    stopped = select_runtime(settings, report).down(args.service)
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return 0


@command("status")
def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    return 0 if print_status(select_runtime(settings, report)) else 1


def print_status(runtime: HostRuntime | ComposeRuntime) -> bool:
    """Print the runtime's health table; True when every service is healthy."""
    table = Table(title=f"Local runtime ({runtime.mode} mode)", title_justify="left")
    for column in ("service", "state", "endpoint", "process"):
        table.add_column(column)
    statuses = runtime.status()
    for status in statuses:
        state = "[green]healthy[/green]" if status.healthy else "[red]down[/red]"
        table.add_row(status.name, state, status.url, status.detail)
    console.print(table)
    return all(s.healthy for s in statuses)


@command("logs")
def cmd_logs(args: argparse.Namespace, settings: Settings) -> int:
    for name, where in select_runtime(settings, report).log_files().items():
        console.print(f"{name:<18} {where}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m harness",
        description="Run, deploy, trigger and watch the agent workflow locally (or on AWS).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in (
        ("up", "start LocalStack, the agent and the AgentCore stand-in (reuses running ones)"),
        ("down", "stop what `up` started"),
    ):
        sub.add_parser(name, help=text).add_argument(
            "--service",
            action="append",
            choices=SERVICES,
            help="only this service (repeatable; default: all)",
        )
    sub.add_parser("status", help="health of the local runtime")
    sub.add_parser("logs", help="where each service logs")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return COMMANDS[args.command](args, Settings())
    except HarnessError as error:
        console.print(f"[bold red]error:[/bold red] {error}")
        return 1
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]")
        return 130


if __name__ == "__main__":
    sys.exit(main())
