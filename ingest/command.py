"""`convention-assistant ingest | status | export | import`: build, inspect, move and heal the index."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from assistant.config import Settings

Handlers = dict[str, Any]


def open_index(settings: Settings) -> tuple[Any, Any]:
    """The embedder and the store of the configured index; the model loads only if something is embedded.

    subtle: status, export and import need the model's name and size, not its weights, and an ingest
    that finds nothing new embeds nothing, so none of them imports torch or loads the model for that.
    """
    from assistant.index.store import ChunkStore
    from assistant.models.embeddings import load_embedder

    embedder = load_embedder(settings, lazy=True)
    return embedder, ChunkStore(settings, embedder)


def _progress_bars() -> tuple[Any, dict[str, Any]]:
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            unit = "file" if stage == "files" else "chunk"
            bars[stage] = tqdm(total=total, desc=f"{stage:<6}", unit=unit, file=sys.stderr, leave=True)
        bar = bars[stage]
        bar.total = total
        bar.update(done - bar.n)

    return progress, bars


def ingest_command(args: argparse.Namespace, settings: Settings) -> int:
    """Add or update documents; exit 1 when nothing could be ingested (or, --strict, anything skipped)."""
    from ingest.pipeline import ingest

    embedder, store = open_index(settings)
    progress, bars = _progress_bars()
    try:
        summary = ingest(args.inputs, settings, embedder, store, prune=args.prune, on_progress=progress)
    finally:
        for bar in bars.values():
            bar.close()
    print(f"documents: {summary.added} added, {summary.updated} updated, "
          f"{summary.unchanged} unchanged, {summary.removed} removed")
    print(f"chunks: {summary.chunks_written} written ({summary.embedded_chunks} embedded), "
          f"{summary.chunks_deleted} deleted; index now {store.count()} chunks in {store.collection_name}")
    if summary.languages:
        print("languages: " + ", ".join(f"{k} {v}" for k, v in summary.languages.items()))
    if summary.kinds:
        print("kinds: " + ", ".join(f"{k} {v}" for k, v in summary.kinds.items()))
    if summary.skipped:
        print(f"skipped {len(summary.skipped)}:")
        for skip in summary.skipped:
            print(f"  {skip.source}: {skip.reason}")
    print(f"seconds: {summary.seconds:.1f}")
    if summary.added + summary.updated + summary.unchanged == 0:
        print("error: nothing was ingested: check the paths and the reasons above.", file=sys.stderr)
        return 1
    if args.strict and summary.skipped:
        print("error: some inputs were skipped (--strict).", file=sys.stderr)
        return 1
    return 0


def _repair(settings: Settings, store: Any, out: Any) -> None:
    from ingest.repair import repair

    done = repair(settings.data_dir, store, settings.ingest_lease_s)
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


def status_command(args: argparse.Namespace, settings: Settings) -> int:
    """What the index holds and any inconsistency; with --repair, heal it first."""
    import json
    from dataclasses import asdict

    from ingest.status import index_status

    embedder, store = open_index(settings)
    if args.repair:
        _repair(settings, store, sys.stderr if args.json else sys.stdout)
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


def _report(what: str, summary: Any, folder: Path) -> None:
    where = "to" if what == "exported" else "from"
    print(f"{what} {summary.documents} documents, {summary.chunks} chunks, {summary.sentences} sentence "
          f"vectors ({summary.model}, {summary.dim} dims) {where} {folder}")


def export_command(args: argparse.Namespace, settings: Settings) -> int:
    """Write the index to a new folder, vectors included."""
    from ingest.transfer import export_index

    embedder, store = open_index(settings)
    summary = export_index(store, settings.data_dir, Path(args.dir), embedder.name)
    _report("exported", summary, Path(args.dir))
    return 0


def import_command(args: argparse.Namespace, settings: Settings) -> int:
    """Load an export into this index without re-embedding."""
    from ingest.transfer import import_index

    embedder, store = open_index(settings)
    summary = import_index(store, settings.data_dir, Path(args.dir), embedder.name)
    _report("imported", summary, Path(args.dir))
    print(f"index now {store.count()} chunks in {store.collection_name}")
    return 0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, handlers: Handlers) -> None:
    """The ingest, status, export and import subcommands."""
    parser = sub.add_parser("ingest", parents=[common], help="add or update documents in the index")
    parser.add_argument("inputs", nargs="+", metavar="PATH_OR_URL", help="files, folders or http(s) URLs")
    parser.add_argument("--prune", action="store_true", help="remove indexed documents not among the inputs")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any input was skipped")
    handlers["ingest"] = ingest_command
    parser = sub.add_parser("status", parents=[common], help="what the index holds, and any inconsistency")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--repair", action="store_true",
        help="drop orphan chunks, re-mark complete documents, and list what must be re-ingested")
    handlers["status"] = status_command
    parser = sub.add_parser("export", parents=[common],
                            help="write the index (manifest, chunks, metadata, vectors) to a new folder")
    parser.add_argument("dir", metavar="DIR", help="an empty or new folder")
    handlers["export"] = export_command
    parser = sub.add_parser("import", parents=[common],
                            help="load an export into this index, without re-embedding")
    parser.add_argument("dir", metavar="DIR", help="a folder written by `export`")
    handlers["import"] = import_command
