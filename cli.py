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


# --- models (engineer A): install and list the embedding profiles --------------------------------


def _register_models(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser, handlers: dict[str, Command]
) -> None:
    from pathlib import Path

    from assistant import models

    def draw(stage: str, done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        end = "\n" if done >= total else ""
        bar = "#" * filled + "." * (width - filled)
        print(f"\r  {stage:<14} [{bar}] {done}/{total}", end=end, file=sys.stderr, flush=True)

    def models_dir(args: argparse.Namespace, settings: Settings) -> Path:
        return Path(args.models_dir) if args.models_dir else settings.models_dir

    def run(args: argparse.Namespace, settings: Settings) -> int:
        where = models_dir(args, settings)
        if args.action == "list":
            print(f"models dir: {where}  (configured: CA_EMBEDDING_MODEL={settings.embedding_model})")
            for profile in models.PROFILES.values():
                state = "installed" if models.is_installed(profile.name, where) else "not installed"
                print(f"{profile.name:<8} {profile.model_id:<22} {profile.dim:>4} dims  {state:<13} "
                      f"{models.model_path(profile.name, where)}")
                print(f"         from {profile.origin}")
            return 0
        names = args.profiles or [settings.embedding_model]
        for name in names:
            models.get_profile(name)  # fail on a typo before downloading anything
        for name in names:
            print(f"{name}: installing or verifying {models.model_path(name, where)}", file=sys.stderr)
            path = models.install(name, where, progress=draw)
            print(f"{name}: ready at {path}")
        return 0

    parser = sub.add_parser("models", parents=[common], help="install or list the offline embedding models")
    parser.add_argument("action", choices=["install", "list"], help="install profiles, or list them")
    parser.add_argument(
        "profiles", nargs="*", metavar="PROFILE", help="small and/or quality (default: the configured one)"
    )
    parser.add_argument(
        "--models-dir", help="where models live (default: CA_MODELS_DIR, else ~/.cache/...)"
    )
    handlers["models"] = run


REGISTRY.append(_register_models)


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
