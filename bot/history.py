"""Line editing and a kept line history for the console, where readline exists."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

HISTORY_FILE = "console_history"
HISTORY_LENGTH = 1000


def enable_history(path: Path, length: int = HISTORY_LENGTH) -> Callable[[], None] | None:
    """Load the history in ``path`` into readline; returns the function that saves it, or
    None where Python has no readline (Windows), which leaves plain line input."""
    try:
        import readline
    except ImportError:
        return None
    readline.clear_history()
    try:
        readline.read_history_file(path)
    except FileNotFoundError:
        pass
    except OSError as exc:  # unreadable: start afresh rather than refuse to chat
        log.warning("console history %s not read: %s", path, exc)
    readline.set_history_length(length)

    def save() -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(path)
        except OSError as exc:
            log.warning("console history %s not saved: %s", path, exc)

    return save
