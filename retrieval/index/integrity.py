"""Trusting a generation: which one ``CURRENT`` names, and whether its files check out.

A generation's manifest records each file's size and CRC-32; a reader checks them, and runs
SQLite's ``quick_check``, when it opens a generation. A damaged live generation gives way to
the newest earlier one that checks out, with one line saying so; a missing or empty
``CURRENT`` to the newest complete generation. When nothing checks out, nothing is guessed.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import zlib
from dataclasses import dataclass
from pathlib import Path

from retrieval.errors import IndexDamagedError
from retrieval.index.layout import (
    CURRENT,
    FORMAT_VERSION,
    MANIFEST,
    STORE,
    Manifest,
    current_generation,
    generation_names,
)

READ_BYTES = 1 << 20

log = logging.getLogger(__name__)
# Generations that checked out, by directory, with the fingerprint of their files then.
_checked: dict[Path, tuple[tuple[str, int, int, int], ...]] = {}


def file_records(
    directory: Path, known: dict[str, dict[str, int]] | None = None
) -> dict[str, dict[str, int]]:
    """Size and CRC-32 of each file of a generation but its manifest, for the manifest;
    ``known`` gives the records of files linked unchanged from a generation that checked out."""
    known = known or {}
    return {
        path.name: known.get(path.name) or {"bytes": path.stat().st_size, "crc32": _crc32(path)}
        for path in sorted(directory.iterdir())
        if path.name != MANIFEST
    }


def _crc32(path: Path) -> int:
    crc = 0
    with path.open("rb") as handle:
        while chunk := handle.read(READ_BYTES):
            crc = zlib.crc32(chunk, crc)
    return crc


def damage(directory: Path) -> str | None:
    """What is damaged in a generation, in a few words, or None when it checks out.

    A generation that checked out is not read again in this process while its files keep
    their sizes, times and inodes: a long-running bot checks each generation once."""
    fingerprint = _fingerprint(directory)
    if fingerprint is not None and _checked.get(directory) == fingerprint:
        return None
    problem = _damage(directory)
    if problem is None and fingerprint is not None:
        _checked[directory] = fingerprint
    return problem


def trust(directory: Path) -> None:
    """Take a generation this process has just written and checksummed as checked."""
    fingerprint = _fingerprint(directory)
    if fingerprint is not None:
        _checked[directory] = fingerprint


def _fingerprint(directory: Path) -> tuple[tuple[str, int, int, int], ...] | None:
    try:
        stats = [(p.name, p.stat()) for p in sorted(directory.iterdir())]
    except OSError:
        return None
    return tuple((name, s.st_size, s.st_mtime_ns, s.st_ino) for name, s in stats)


def _damage(directory: Path) -> str | None:
    try:
        data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("format_version") != FORMAT_VERSION:
            # Another format is not damage: it is refused as a mismatch, with the rebuild.
            return _store_damage(directory / STORE)
        files = Manifest(**data).files
        if not isinstance(files, dict) or not all(
            isinstance(r, dict) and "/" not in n and not n.startswith(".") for n, r in files.items()
        ):
            raise ValueError("its list of files is malformed")
    except FileNotFoundError:
        return f"{MANIFEST} is missing"
    except (OSError, ValueError, TypeError) as exc:
        return f"{MANIFEST} is unreadable ({exc})"
    for name, record in files.items():
        path = directory / name
        if not path.is_file():
            return f"{name} is missing"
        size = path.stat().st_size
        if size != record.get("bytes"):
            return f"{name} has {size} bytes, the manifest says {record.get('bytes')}"
        if _crc32(path) != record.get("crc32"):
            return f"{name} does not match its checksum"
    return _store_damage(directory / STORE)


def _store_damage(path: Path) -> str | None:
    if not path.is_file():
        return f"{STORE} is missing"
    try:
        db = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        try:
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error as exc:
        return f"{STORE} fails SQLite's quick_check ({exc})"
    return None if verdict == "ok" else f"{STORE} fails SQLite's quick_check ({verdict})"


@dataclass(frozen=True)
class Live:
    """The generation to use, and what was wrong on the way to it (None: nothing)."""

    name: str
    note: str | None = None
    damaged: str | None = None  # a newer generation passed over because it is damaged
    problem: str | None = None  # what is damaged in it


def find_live(data_dir: Path) -> Live | None:
    """The generation to read and write from, checked (None when nothing was built yet)."""
    name = current_generation(data_dir)
    if name is None:
        return _recover(data_dir)
    problem = damage(data_dir / name)
    if problem is None:
        return Live(name)
    number = int(name[4:])
    for older in generation_names(data_dir):
        if int(older[4:]) < number and damage(data_dir / older) is None:
            note = (f"{name} in {data_dir} is damaged ({problem}): using {older}, which "
                    f"may lack the latest changes; {recovery(data_dir, name)}")  # fmt: skip
            return Live(older, note, damaged=name, problem=problem)
    raise IndexDamagedError(
        f"{name} in {data_dir} is damaged ({problem}) and no earlier generation checks "
        f"out; {recovery(data_dir, name)}"
    )


def superseded(data_dir: Path, from_current: bool) -> str | None:
    """The complete generation a write supersedes; a write on top of a damaged one is
    refused (a fresh build may go ahead, and then deletes nothing)."""
    try:
        live = find_live(data_dir)
    except IndexDamagedError:
        if from_current:
            raise
        return None
    if live is None:
        return None
    if live.note is not None:
        log.warning(live.note)
    if from_current and live.damaged is not None:
        raise IndexDamagedError(
            f"{live.damaged} in {data_dir} is damaged ({live.problem}): nothing was written; "
            f"{recovery(data_dir, live.damaged)}"
        )
    return live.name


def _recover(data_dir: Path) -> Live | None:
    names = generation_names(data_dir)
    if not names:
        return None
    problems = []
    for name in names:
        problem = damage(data_dir / name)
        if problem is None:
            note = (f"{CURRENT} in {data_dir} is missing or empty: using {name}, the newest "
                    "complete generation")  # fmt: skip
            return Live(name, note)
        problems.append(f"{name}: {problem}")
    raise IndexDamagedError(
        f"{CURRENT} in {data_dir} is missing or empty and no generation checks out "
        f"({'; '.join(problems)}); nothing was changed: restore the data directory from a "
        "backup, or move it aside and run `newsbot index PATH ...`"
    )


def recovery(data_dir: Path, damaged: str) -> str:
    """The command that rebuilds past a damaged generation, losing as little as possible."""
    if store_damage(data_dir / damaged) is None:
        return "run `newsbot index --existing` to rebuild it from the articles it holds"
    return (
        f"its {STORE} is damaged too: `newsbot index --existing` rebuilds from the newest "
        "store that checks out, then `newsbot add` what is missing"
    )


def store_damage(directory: Path) -> str | None:
    """What is wrong with a generation's store alone (its manifest may be the damaged part)."""
    try:
        files = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))["files"]
        record = files[STORE]
    except (OSError, ValueError, KeyError, TypeError):
        record = None  # without a readable record, SQLite's own check decides
    path = directory / STORE
    if (
        isinstance(record, dict)
        and path.is_file()
        and (path.stat().st_size != record.get("bytes") or _crc32(path) != record.get("crc32"))
    ):
        return f"{STORE} does not match the size and checksum in its manifest"
    return _store_damage(path)


def rebuild_source(data_dir: Path) -> tuple[Path, str | None]:
    """The newest store that checks out, to rebuild the index from, and a note when it is
    not the one of the generation ``CURRENT`` names."""
    name = current_generation(data_dir)
    others = [n for n in generation_names(data_dir) if n != name]
    problems: list[str] = []
    for candidate in ([name] if name else []) + others:
        problem = store_damage(data_dir / candidate)
        if problem is None:
            if candidate == name:
                return data_dir / candidate / STORE, None
            why = "; ".join(problems) or f"{CURRENT} is missing or empty"
            return data_dir / candidate / STORE, (
                f"{why}: rebuilding from the articles in {candidate}"
            )
        problems.append(f"{candidate}: {problem}")
    raise IndexDamagedError(
        f"no store in {data_dir} checks out ({'; '.join(problems) or 'no generations'}): "
        "move the directory aside and run `newsbot index PATH ...` with the article files"
    )
