"""Fitting HTML messages into Telegram's 4096-character limit without breaking markup."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from html.parser import HTMLParser

MAX_MESSAGE_LENGTH = 4096

# A paragraph is a run of atoms: balanced HTML snippets a message may be split between,
# never inside. Joined with "" they give the paragraph; paragraphs are joined by a blank line.
Paragraph = tuple[str, ...]

_SENTENCE_END = re.compile(r"(?<=[.!?…])(?=\s)")
_WORD_START = re.compile(r"(?=\s)")


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units, so an emoji counts twice."""
    return len(text.encode("utf-16-le")) // 2


def escape_html(text: str) -> str:
    """Escape text for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


def text_atoms(
    text: str,
    limit: int = MAX_MESSAGE_LENGTH,
    escape: Callable[[str], str] = escape_html,
) -> Paragraph:
    """Escaped atoms of plain text, each within `limit`: sentences, else words, else characters."""
    atoms: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        escaped = escape(sentence)
        if telegram_length(escaped) <= limit:
            atoms.append(escaped)
            continue
        for word in _WORD_START.split(sentence):
            escaped = escape(word)
            if telegram_length(escaped) <= limit:
                atoms.append(escaped)
            else:
                atoms.extend(_split_characters(word, limit, escape))
    return tuple(atom for atom in atoms if atom)


def _split_characters(word: str, limit: int, escape: Callable[[str], str]) -> list[str]:
    # Escaping character by character keeps entities such as &amp; whole.
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for char in word:
        piece = escape(char)
        piece_size = telegram_length(piece)
        if current and size + piece_size > limit:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(piece)
        size += piece_size
    if current:
        chunks.append("".join(current))
    return chunks


def pack(paragraphs: Sequence[Paragraph], limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Pack paragraphs into as few messages as fit, splitting only between atoms."""
    parts: list[str] = []
    current = ""
    for paragraph in paragraphs:
        whole = "".join(paragraph).strip()
        if not whole:
            continue
        candidate = f"{current}\n\n{whole}" if current else whole
        if telegram_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
            current = ""
        if telegram_length(whole) <= limit:
            current = whole
            continue
        for atom in paragraph:
            candidate = current + atom if current else atom.lstrip()
            if telegram_length(candidate) <= limit:
                current = candidate
            else:
                if current.strip():
                    parts.append(current.rstrip())
                current = atom.lstrip()
    if current.strip():
        parts.append(current.rstrip())
    return parts


class _PlainText(HTMLParser):
    """Collects the visible text of Telegram HTML, writing each link's address after it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._href: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            label = "".join(self._link_text)
            self.chunks.append(label if label == self._href else f"{label} ({self._href})")
            self._href = None

    def handle_data(self, data: str) -> None:
        (self._link_text if self._href is not None else self.chunks).append(data)


def to_plain_text(html_text: str) -> str:
    """The same message without markup, for when Telegram rejects the HTML."""
    parser = _PlainText()
    parser.feed(html_text)
    parser.close()
    return "".join(parser.chunks)


def split_plain(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Split plain text into messages at paragraph or sentence boundaries."""
    paragraphs = [text_atoms(block, limit, escape=str) for block in re.split(r"\n\s*\n", text)]
    return pack(paragraphs, limit)
