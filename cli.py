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


# --- models: install and list the embedding profiles --------------------------------


def _register_models(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser, handlers: dict[str, Command]
) -> None:
    from pathlib import Path

    from assistant.models import profiles as models

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


# --- ingest, status, export, import: build, inspect, move and heal the index (ingest/command.py) ---


def _register_index(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser, handlers: dict[str, Command]
) -> None:
    from ingest.command import register

    register(sub, common, handlers)


REGISTRY.append(_register_index)


# --- serve: the web app (chat page, HTTP API, widget) with uvicorn -----------------------


def _register_serve(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser, handlers: dict[str, Command]
) -> None:
    def serve(args: argparse.Namespace, settings: Settings) -> int:
        import uvicorn

        from app import create_app

        host = args.host or settings.host
        port = args.port or settings.port
        settings = settings.model_copy(update={"host": host, "port": port})  # /mcp checks the Host header
        print(f"building the assistant (model {settings.embedding_model}, index {settings.data_dir})...",
              file=sys.stderr)
        app = create_app(settings)
        print(f"serving the chat at http://{host}:{port}/ , the API docs at /docs, the widget at /widget",
              file=sys.stderr)
        uvicorn.run(app, host=host, port=port, log_level="info" if args.verbose else "warning")
        return 0

    parser = sub.add_parser("serve", parents=[common], help="serve the chat page, the HTTP API, the widget")
    parser.add_argument("--host", help="address to listen on (env CA_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (env CA_PORT, default 7860)")
    handlers["serve"] = serve


REGISTRY.append(_register_serve)


# --- ask: one question, a cited answer ------------------------------------------------


def _register_ask(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser, handlers: dict[str, Command]
) -> None:
    def ask(args: argparse.Namespace, settings: Settings) -> int:
        import json

        from assistant.answering.citations import source_line
        from assistant.answering.service import AskRequest
        from assistant.types import Filters, Turn
        from assistant.wiring import build_services
        from web.schemas import answer_json

        services = build_services(settings)
        try:
            asked = AskRequest(args.question, tuple(Turn("user", q) for q in args.after or ()),
                               Filters(languages=tuple(args.lang or ())), args.mode, args.k, client="cli")
            answer = services.answers().ask_now(asked)
        finally:
            services.close()
        if args.json:
            print(json.dumps(answer_json(answer), ensure_ascii=False, indent=2))
            return 0
        if answer.notice:
            print(f"({answer.notice})\n")
        print(answer.answer)
        if answer.citations:
            print()
        for c in answer.citations:
            print(source_line(c))
        return 0

    parser = sub.add_parser("ask", parents=[common], help="answer one question with verified citations")
    parser.add_argument("question", help="the question, in any language")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    parser.add_argument("--mode", choices=["extractive", "llm"], help="answerer (env CA_MODE)")
    parser.add_argument("--lang", action="append", metavar="LANG",
                        help="only use documents in this language (repeatable), e.g. --lang fr")
    parser.add_argument("--k", type=int, help="how many passages to retrieve (env CA_TOP_K)")
    parser.add_argument("--after", action="append", metavar="QUESTION",
                        help="an earlier question of the conversation, for a follow-up (repeatable)")
    handlers["ask"] = ask


REGISTRY.append(_register_ask)


# --- mcp: the Model Context Protocol tools (ask, search, get_document) over stdio ----------------


def _register_mcp(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser, handlers: dict[str, Command]
) -> None:
    def mcp(args: argparse.Namespace, settings: Settings) -> int:
        from web.mcp_server import serve_stdio

        print(f"MCP server on stdio (model {settings.embedding_model}, index {settings.data_dir})",
              file=sys.stderr)
        serve_stdio(settings)
        return 0

    sub.add_parser("mcp", parents=[common], help="serve the MCP tools ask, search, get_document over stdio")
    handlers["mcp"] = mcp


REGISTRY.append(_register_mcp)


# --- eval: the fixed multilingual evaluation set, report and baseline comparison -------


def _register_eval(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser, handlers: dict[str, Command]
) -> None:
    def eval_cmd(args: argparse.Namespace, settings: Settings) -> int:
        from eval.command import run_command  # noqa: PLC0415 (heavy: only for this subcommand)

        return run_command(args, settings)

    parser = sub.add_parser("eval", parents=[common], help="score the eval set against the baseline")
    parser.add_argument("--split", choices=("dev", "test"), default="dev",
                        help="dev (tuned on) or test (held out, never tuned on); default dev")
    parser.add_argument("--set", metavar="FILE", help="any evaluation set, JSONL (instead of --split)")
    parser.add_argument("--sweep", action="store_true",
                        help="run the article sweep instead: every article, bare and as a follow-up")
    parser.add_argument("--report", metavar="DIR", help="write results, summary.md and charts there")
    parser.add_argument("--json", action="store_true", help="print the summary object as JSON")
    parser.add_argument("--ablations", action="store_true",
                        help="also score dense-only, BM25-only and each installed embedding profile")
    parser.add_argument("--input", action="append", metavar="PATH",
                        help="documents to ingest first (repeatable; default ../shared/corpus)")
    parser.add_argument("--baseline", metavar="FILE", help="baseline to compare with (eval/baseline.json)")
    parser.add_argument("--write-baseline", action="store_true", help="save this run as the new baseline")
    parser.add_argument("--junit", metavar="FILE",
                        help="write a JUnit XML report: a test case per question and per gate")
    parser.add_argument("--markdown", metavar="FILE",
                        help="write the summary tables and gates as Markdown (e.g. $GITHUB_STEP_SUMMARY)")
    handlers["eval"] = eval_cmd


REGISTRY.append(_register_eval)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return handlers[args.command](args, _settings(args))
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: what was already stored is kept; run the same command again to finish.",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
