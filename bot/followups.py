"""Follow-up questions: an earlier exchange of the same conversation as context for the next.

Telegram threads follow-ups by replies to the bot; the console by a leading ``+``. Both hand the
answerer the same text: the thread's last few turns, question then answer, most recent last.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CONTEXT_DEPTH = 3
CONTEXT_CHARS = 2000
_MARKER = re.compile(r"\s*\[\d+\]")


def thread_text(turns: Iterable[tuple[str, str]]) -> str:
    """``turns`` (question, answer), oldest first, as context: the last ``CONTEXT_DEPTH`` of
    them with the answers' citation markers removed, at most ``CONTEXT_CHARS`` long."""
    kept = list(turns)[-CONTEXT_DEPTH:]
    text = "\n\n".join(f"{asked}\n{_MARKER.sub('', said).strip()}" for asked, said in kept)
    return text[-CONTEXT_CHARS:]
