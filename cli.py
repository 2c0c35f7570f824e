"""Command line: `convention-assistant SUBCOMMAND ...`. Only this module and app.py print."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from typing import Any

from assistant.config import Settings, load_settings
from assistant.errors import AssistantError

Command = Callable[[argparse.Namespace, Settings], int]


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment, overridden by the options common to every subcommand."""
    return load_settings(data_dir=getattr(args, "data_dir", None))


def _open_index(settings: Settings, lazy: bool = False) -> tuple[Any, Any]:
    """The embedder and the store of the configured index (models load here or, if lazy, on first use)."""
    from assistant.index.store import ChunkStore
    from assistant.models.embeddings import load_embedder

    embedder = load_embedder(settings, lazy=lazy)
    return embedder, ChunkStore(settings, embedder)


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


# --- ingest and status: build the index incrementally, report what it holds ---------


def _register_ingest(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser, handlers: dict[str, Command]
) -> None:

    def ingest_cmd(args: argparse.Namespace, settings: Settings) -> int:
        from tqdm import tqdm

        from ingest.pipeline import ingest

        # subtle: lazy, so an ingest that finds nothing new never imports torch nor loads the model
        embedder, store = _open_index(settings, lazy=True)
        bars: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in bars:
                unit = "file" if stage == "files" else "chunk"
                bars[stage] = tqdm(total=total, desc=f"{stage:<6}", unit=unit, file=sys.stderr, leave=True)
            bar = bars[stage]
            bar.total = total
            bar.update(done - bar.n)

        try:
            summary = ingest(args.inputs, settings, embedder, store, prune=args.prune, on_progress=progress)
        finally:
            for bar in bars.values():
                bar.close()
        print(
            f"documents: {summary.added} added, {summary.updated} updated, "
            f"{summary.unchanged} unchanged, {summary.removed} removed"
        )
        print(
            f"chunks: {summary.chunks_written} written ({summary.embedded_chunks} embedded), "
            f"{summary.chunks_deleted} deleted; index now {store.count()} chunks in {store.collection_name}"
        )
        if summary.languages:
            print("languages: " + ", ".join(f"{k} {v}" for k, v in summary.languages.items()))
        if summary.kinds:
            print("kinds: " + ", ".join(f"{k} {v}" for k, v in summary.kinds.items()))
        if summary.skipped:
            print(f"skipped {len(summary.skipped)}:")
            for skip in summary.skipped:
                print(f"  {skip.source}: {skip.reason}")
        print(f"seconds: {summary.seconds:.1f}")
        usable = summary.added + summary.updated + summary.unchanged
        if usable == 0:
            print("error: nothing was ingested: check the paths and the reasons above.", file=sys.stderr)
            return 1
        if args.strict and summary.skipped:
            print("error: some inputs were skipped (--strict).", file=sys.stderr)
            return 1
        return 0

    def status_cmd(args: argparse.Namespace, settings: Settings) -> int:
        import json
        from dataclasses import asdict

        from ingest.pipeline import index_status

        embedder, store = _open_index(settings)
        status = index_status(settings, store)
        if args.json:
            print(json.dumps({"model": embedder.name, "dim": embedder.dim, **asdict(status)}, indent=2))
            return 0
        print(f"model: {embedder.name} ({embedder.dim} dims)")
        print(f"collection: {status.collection}")
        print(f"store: {status.location}")
        print(f"documents: {status.documents}, chunks: {status.chunks}")
        for title, table in (("languages", status.languages), ("kinds", status.kinds)):
            cells = ", ".join(f"{k} {d} docs/{c} chunks" for k, (d, c) in table.items())
            print(f"{title}: {cells or '-'}")
        if status.problems:
            print(f"inconsistencies ({len(status.problems)}):")
            for problem in status.problems:
                print(f"  {problem}")
        else:
            print("consistency: the store matches the manifest")
        return 0

    parser = sub.add_parser("ingest", parents=[common], help="add or update documents in the index")
    parser.add_argument("inputs", nargs="+", metavar="PATH_OR_URL", help="files, folders or http(s) URLs")
    parser.add_argument("--prune", action="store_true", help="remove indexed documents not among the inputs")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any input was skipped")
    handlers["ingest"] = ingest_cmd
    parser = sub.add_parser("status", parents=[common], help="what the index holds, and any inconsistency")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    handlers["status"] = status_cmd


REGISTRY.append(_register_ingest)


# --- serve: the web app (chat page, HTTP API, widget) with uvicorn -----------------------


def _register_serve(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser, handlers: dict[str, Command]
) -> None:
    def serve(args: argparse.Namespace, settings: Settings) -> int:
        import uvicorn

        from app import create_app

        host = args.host or settings.host
        port = args.port or settings.port
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
            quote = " ".join(c.quote.split())  # a quoted article keeps its line breaks in the JSON only
            where = " — ".join(x for x in (c.title, c.locator, f"“{quote}”", c.url) if x)
            print(f"[{c.n}] {where}")
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
    handlers["eval"] = eval_cmd


REGISTRY.append(_register_eval)


# --- export, import, status --repair: move an index without re-embedding, heal it ---------


def _register_transfer(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser, handlers: dict[str, Command]
) -> None:
    from pathlib import Path

    def report(what: str, summary: Any, folder: Path) -> None:
        where = "to" if what == "exported" else "from"
        print(f"{what} {summary.documents} documents, {summary.chunks} chunks, {summary.sentences} sentence "
              f"vectors ({summary.model}, {summary.dim} dims) {where} {folder}")

    def export_cmd(args: argparse.Namespace, settings: Settings) -> int:
        from ingest.transfer import export_index

        embedder, store = _open_index(settings)
        summary = export_index(store, settings.data_dir, Path(args.dir), embedder.name)
        report("exported", summary, Path(args.dir))
        return 0

    def import_cmd(args: argparse.Namespace, settings: Settings) -> int:
        from ingest.transfer import import_index

        embedder, store = _open_index(settings)
        summary = import_index(store, settings.data_dir, Path(args.dir), embedder.name)
        report("imported", summary, Path(args.dir))
        print(f"index now {store.count()} chunks in {store.collection_name}")
        return 0

    parser = sub.add_parser("export", parents=[common],
                            help="write the index (manifest, chunks, metadata, vectors) to a new folder")
    parser.add_argument("dir", metavar="DIR", help="an empty or new folder")
    handlers["export"] = export_cmd
    parser = sub.add_parser("import", parents=[common],
                            help="load an export into this index, without re-embedding")
    parser.add_argument("dir", metavar="DIR", help="a folder written by `export`")
    handlers["import"] = import_cmd

    # subtle: `status` belongs to the ingest block; --repair wraps its handler rather than copying it
    sub.choices["status"].add_argument(
        "--repair", action="store_true",
        help="drop orphan chunks, re-mark complete documents, and list what must be re-ingested")
    show_status = handlers["status"]

    def status_cmd(args: argparse.Namespace, settings: Settings) -> int:
        if args.repair:
            from ingest.repair import repair

            _, store = _open_index(settings)
            done = repair(settings.data_dir, store, settings.ingest_lease_s)
            out = sys.stderr if args.json else sys.stdout
            if not done.changed:
                print("repair: nothing to fix", file=out)
            if done.chunks_removed:
                print(f"repair: removed {done.chunks_removed} rows of partly written documents", file=out)
            for source in done.adopted:
                print(f"repair: {source} is complete in the index: recorded here as done", file=out)
            for source in done.remarked_done:
                print(f"repair: {source} was completely stored: marked done", file=out)
            for source in done.reingest:
                print(f"repair: {source} is not completely in the index: run ingest on it again", file=out)
        return show_status(args, settings)

    handlers["status"] = status_cmd


REGISTRY.append(_register_transfer)


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
