"""What the bot says, in one place so the wording stays consistent."""

from __future__ import annotations

from collections.abc import Sequence

from bot.telegram.splitting import escape_html
from retrieval.articles import ArticleSummary

_EXAMPLE_TEMPLATES = (
    "What happened: “{title}”?",
    "What do we know about “{title}”?",
    "Why does “{title}” matter?",
)

HELP = (
    "<b>How to ask</b>\n"
    "In a private chat, just send me a question. In a group, use /ask <i>question</i>"
    " or mention me. Reply to one of my answers to ask a follow-up.\n\n"
    "<b>Commands</b>\n"
    "/ask <i>question</i> — answer a question from the indexed news\n"
    "/sources — list the indexed articles\n"
    "/stats — usage figures (admins only)\n"
    "/add <i>url</i> — add an article or a news feed by its link (admins only)\n"
    "/follow, /unfollow <i>feed url</i>, /feeds — the followed news feeds (admins only)\n"
    "/help — this message\n\n"
    "Every answer cites its sources; rate it with 👍 or 👎."
)
ASK_USAGE = "Usage: /ask <i>question</i>, for example /ask Where is Putin travelling?"
TEXT_ONLY = "I can only answer questions sent as text."
UNKNOWN_COMMAND = "I don't know that command. See /help."
SOMETHING_WRONG = "Sorry, something went wrong while answering. Please try again later."
INDEX_UNAVAILABLE = "I can't search the news right now; the index isn't available."
ADMINS_ONLY = "Only the bot's admins can see /stats."
ADD_ADMINS_ONLY = "Only the bot's admins can add sources."
ADD_USAGE = (
    "Usage: /add <i>url</i> [<i>url</i> …], links to articles or to RSS/Atom feeds,"
    " for example /add https://example.com/news.rss"
)
ADD_FAILED = "Sorry, I couldn't update the index. The log has the details."
FEEDBACK_THANKS = "Thanks for the feedback!"
FEEDBACK_EXPIRED = "That answer is too old to rate."
FEEDBACK_NOT_YOURS = "Only the person who asked can rate this answer."
BUTTON_EXPIRED = "That button no longer works."


def example_questions(articles: Sequence[ArticleSummary], count: int = 3) -> list[str]:
    """Up to `count` example questions drawn from the newest article titles."""
    titles: list[str] = []
    for article in articles:
        title = " ".join(article.title.split()).rstrip(".?!")
        if title and title not in titles:
            titles.append(title)
        if len(titles) == count:
            break
    pairs = zip(_EXAMPLE_TEMPLATES, titles, strict=False)
    return [template.format(title=title) for template, title in pairs]


def welcome(first_name: str | None, examples: Sequence[str]) -> str:
    """The /start greeting with example questions."""
    name = f", {escape_html(first_name)}" if first_name else ""
    lines = [f"Hi{name}! I answer questions about the news, citing the articles I used."]
    if examples:
        lines.append("\nTry, for example:")
        lines.extend(f"• {escape_html(q)}" for q in examples)
    lines.append("\nSend me a question, or see /help.")
    return "\n".join(lines)


def group_intro(bot_username: str, sees_all_messages: bool) -> str:
    """The one message posted when the bot joins a group."""
    mention = f" or mention @{escape_html(bot_username)}" if sees_all_messages else ""
    return (
        f"Hi! Ask me about the news with /ask <i>question</i>{mention}."
        " Reply to one of my answers to follow up."
    )


def too_long(length: int, limit: int) -> str:
    """Reply to a question over the length limit."""
    return f"That question is too long ({length} characters). Please keep it under {limit}."


def slow_down(wait_seconds: float) -> str:
    """Reply to a user over the per-minute question limit."""
    return f"You're asking faster than I can keep up. Please wait {max(1, round(wait_seconds))} s."


def usage_stats(figures: dict[str, str]) -> str:
    """The /stats message from named, already formatted figures."""
    lines = ["<b>Stats</b>"]
    lines.extend(f"{escape_html(k)}: {escape_html(v)}" for k, v in figures.items())
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def not_web_urls(sources: Sequence[str], shown: int = 5) -> str:
    """Reply to /add with something other than http(s) links: nothing is added."""
    lines = ["Only http(s) links can be added from Telegram; nothing was added. Not links:"]
    lines.extend(f"• <code>{escape_html(_clip(s, 100))}</code>" for s in sources[:shown])
    if len(sources) > shown:
        lines.append(f"… and {len(sources) - shown} more")
    return "\n".join(lines)


def adding(count: int) -> str:
    """The first reply to /add, before the sources are read."""
    return f"Adding {count} source{'' if count == 1 else 's'}…"


def added(summary: str, problems: Sequence[str], shown: int = 5) -> str:
    """The reply to /add once done: the one-line summary and the first problems."""
    lines = [f"<b>Done:</b> {escape_html(summary)}"]
    lines.extend(f"• {escape_html(_clip(p, 300))}" for p in problems[:shown])
    if len(problems) > shown:
        lines.append(f"… and {len(problems) - shown} more (see the log)")
    return "\n".join(lines)
