"""Command line: `convention-assistant SUBCOMMAND ...`. Only this module and app.py print."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from assistant.config import Settings, load_settings
from assistant.errors import AssistantError

Command = Callable[[argparse.Namespace, Settings], int]


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment, overridden by the options common to every subcommand."""
    return load_settings(data_dir=getattr(args, "data_dir", None))


# --- subcommands: each one registers its parser and its handler below ----------------------------


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    """The argument parser and the handler of each subcommand."""
    parser = argparse.ArgumentParser(prog="convention-assistant", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    handlers: dict[str, Command] = {}
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="where the index lives (env CA_DATA_DIR, default .data)")
    for register in REGISTRY:
        register(sub, common, handlers)
    return parser, handlers


Register = Callable[[argparse._SubParsersAction, argparse.ArgumentParser, dict[str, Command]], None]
REGISTRY: list[Register] = []


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return handlers[args.command](args, _settings(args))
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: what was already stored is kept; run the same command again to finish.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
