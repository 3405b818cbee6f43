"""`newsbot feedback`: the 👍/👎 votes given to the bot's answers, for review or export."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from bot.settings import Settings


def feedback_command(settings: Settings, as_json: bool, stdout: TextIO) -> int:
    """Print every vote with its question, answer and cited URLs, oldest first (from the
    database with NEWSBOT_DATABASE_URL, where every replica records them)."""
    if settings.database_url is not None:
        from bot.telegram.shared_state import SharedConversationStore
        from retrieval.pgstore import EF_SEARCH, open_pool

        pool = open_pool(settings.database_url.get_secret_value(), ef_search=EF_SEARCH, size=1)
        try:
            votes = SharedConversationStore(pool).feedback()
        finally:
            pool.close()
    else:
        from bot.telegram.app import DATABASE_NAME
        from bot.telegram.conversations import ConversationStore

        path = settings.data_dir / DATABASE_NAME
        if not path.exists():
            print(f"No feedback yet: {path} does not exist (the Telegram bot writes it).",
                  file=sys.stderr)  # fmt: skip
            return 0
        store = ConversationStore(path)
        try:
            votes = store.feedback()
        finally:
            store.close()
    for exchange_id, user_id, vote, question, answer, urls in votes:
        if as_json:
            record = {"exchange_id": exchange_id, "user_id": user_id, "vote": vote,
                      "question": question, "answer": answer, "cited_urls": list(urls)}  # fmt: skip
            stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            cited = "".join(f"\n    {url}" for url in urls)
            stdout.write(f"{'👍' if vote > 0 else '👎'} {question}\n    {answer}{cited}\n")
    if not as_json:
        up = sum(1 for vote in votes if vote[2] > 0)
        stdout.write(f"{len(votes)} votes: {up} 👍, {len(votes) - up} 👎\n")
    return 0
