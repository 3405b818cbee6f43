"""`newsbot db`: the PostgreSQL store's schema (migrate, status) and imports into it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from bot.settings import Settings


def db_command(
    settings: Settings, action: str, paths: list[Path], as_json: bool, stdout: TextIO
) -> int:
    """Migrate the schema, show its status, or import an embedded index."""
    from bot.app import make_embedder, make_storage

    if settings.database_url is None:
        print("error: `newsbot db` needs NEWSBOT_DATABASE_URL (postgresql://...)", file=sys.stderr)
        return 2
    if action == "import" and len(paths) != 1:
        print("error: `newsbot db import` needs one data directory", file=sys.stderr)
        return 2
    embedder = make_embedder(settings)
    storage = make_storage(settings, embedder)
    try:
        if action == "migrate":
            applied = storage.migrate(embedder.dimension)  # type: ignore[attr-defined]
            for name in applied:
                print(f"applied migration {name}", file=sys.stderr)
            if not applied:
                print("The schema is up to date.", file=sys.stderr)
            return 0
        if action == "import":
            return import_command(settings, paths[0], storage)
        status = storage.status()  # type: ignore[attr-defined]
        if as_json:
            stdout.write(json.dumps(status) + "\n")
        else:
            for key, value in status.items():
                stdout.write(f"{key.replace('_', ' ')}: {value}\n")
        return 0
    finally:
        storage.close()  # type: ignore[attr-defined]


def import_command(settings: Settings, data_dir: Path, storage: object) -> int:
    """Copy the embedded index in ``data_dir`` into the database, vectors and all."""
    from bot.app import index_spec, make_embedder
    from retrieval.pgstore import import_embedded

    def progress(report: object, total: int) -> None:
        done = report.articles + report.unchanged  # type: ignore[attr-defined]
        print(f"imported {done}/{total} articles", file=sys.stderr, flush=True)

    report = import_embedded(data_dir, storage, index_spec(settings, make_embedder(settings)),  # type: ignore[arg-type]
                             progress=progress)  # fmt: skip
    print(
        f"Imported {report.articles} articles ({report.passages} passages, "
        f"{report.aliases} other URLs) from {data_dir}; {report.unchanged} were already there.",
        file=sys.stderr,
    )
    return 0
