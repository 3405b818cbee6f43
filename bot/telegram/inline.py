"""Inline mode: `@Bot question` in any chat offers the answer and the top headlines."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.telegram.delivery import preview_options
from bot.telegram.formatting import headline, render_answer, short_date
from bot.telegram.services import services
from bot.telegram.splitting import escape_html
from retrieval.answer import Citation
from retrieval.answering import language_problem
from retrieval.articles import ArticleSummary

MIN_QUERY_LENGTH = 3
MAX_HEADLINES = 5
CACHE_SECONDS = 60


def headline_results(
    items: Sequence[ArticleSummary | Citation],
) -> list[InlineQueryResultArticle]:
    """One inline result per article: its title, outlet and date, sending the linked headline."""
    results = []
    for index, item in enumerate(items[:MAX_HEADLINES]):
        line = headline(item)
        results.append(
            InlineQueryResultArticle(
                id=f"h{index}",
                title=item.title[:200],
                description=f"{item.source}, {short_date(item.published)}",
                url=item.url,
                input_message_content=InputTextMessageContent(
                    line,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=preview_options(line),
                ),
            )
        )
    return results


def _notice(text: str) -> InlineQueryResultArticle:
    """One result that says why there is no answer, and sends that if chosen."""
    return InlineQueryResultArticle(
        id="notice",
        title=text.split(":")[0][:200],
        description=text[:200],
        input_message_content=InputTextMessageContent(escape_html(text), parse_mode=ParseMode.HTML),
    )


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer an inline query; short or over-quota queries get the newest headlines."""
    query = update.inline_query
    if query is None:
        return
    found = services(context)
    text = query.query.strip()
    asks = MIN_QUERY_LENGTH <= len(text) <= found.max_question_length
    # Results are personal: Telegram must not show one user's (or an over-quota user's)
    # results to another who types the same query.
    if asks and (problem := language_problem(text, found.languages)):
        await query.answer([_notice(problem)], cache_time=CACHE_SECONDS, is_personal=True)
        return
    if not asks and await found.browsing.acquire(query.from_user.id):
        await query.answer([], cache_time=0, is_personal=True)
        return
    if not asks or await found.inline_queries.acquire(query.from_user.id):
        articles = await found.answerer.list_articles()
        await query.answer(headline_results(articles), cache_time=CACHE_SECONDS, is_personal=True)
        return
    answer = await found.answerer.answer(text)
    first = render_answer(answer)[0]
    summary = " ".join(answer.text.split())
    results: list[InlineQueryResultArticle] = [
        InlineQueryResultArticle(
            id="answer",
            title="Answer" if answer.answered else "Not found in the indexed news",
            description=summary[:200],
            input_message_content=InputTextMessageContent(
                first,
                parse_mode=ParseMode.HTML,
                link_preview_options=preview_options(first),
            ),
        )
    ]
    results.extend(headline_results(answer.citations if answer.answered else answer.closest))
    await query.answer(results, cache_time=CACHE_SECONDS, is_personal=True)
