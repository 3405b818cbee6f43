"""Passages: sentence splitting, long paragraphs split to fit, tiny fragments merged."""

from __future__ import annotations

from datetime import date

from retrieval.articles import Article
from retrieval.chunking import (
    ChunkSettings,
    chunk_article,
    chunk_articles,
    embedding_text,
)
from retrieval.sentences import content_words, split_sentences


def _article(*paragraphs: str, title: str = "A Title") -> Article:
    return Article("https://x.test/a", title, "X", date(2024, 1, 1), tuple(paragraphs))


def test_split_sentences_keeps_abbreviations() -> None:
    text = (
        "Since the fall of the U.S.S.R., Russia kept ties. Mr. Smith met U.S. President Biden. "
        '"We agree," he said. Then he left!'
    )
    assert split_sentences(text) == [
        "Since the fall of the U.S.S.R., Russia kept ties.",
        "Mr. Smith met U.S. President Biden.",
        '"We agree," he said.',
        "Then he left!",
    ]


def test_content_words_drop_question_words() -> None:
    assert content_words("When is Putin visiting Pyongyang?") == {"putin", "visit", "pyongyang"}
    assert content_words("Where will he travel then?") == {"go", "after"}


def test_short_paragraphs_stay_whole() -> None:
    article = _article(
        "First paragraph is long enough to stand on its own as a passage here.",
        "Second paragraph is also long enough to be a passage of its own, surely.",
    )
    passages = chunk_article(article, ChunkSettings(max_tokens=256, min_chars=40))
    assert [p.text for p in passages] == list(article.paragraphs)
    assert [p.position for p in passages] == [0, 1]


def test_tiny_fragments_merge_with_a_neighbour() -> None:
    article = _article(
        "Vietnam.",
        "A much longer paragraph that follows the fragment and has words.",
        "Another full paragraph that stays on its own in the passage list.",
        "Ok.",
    )
    passages = chunk_article(article, ChunkSettings(max_tokens=256, min_chars=20))
    assert passages[0].text.startswith("Vietnam. A much longer paragraph")
    assert passages[-1].text.endswith("passage list. Ok.")
    assert len(passages) == 2


def test_long_paragraph_splits_at_sentence_boundaries() -> None:
    sentences = [
        f"Sentence number {i} says something about the economy and trade." for i in range(40)
    ]
    article = _article(" ".join(sentences))
    settings = ChunkSettings(max_tokens=60, min_chars=20)
    passages = chunk_article(article, settings, count_tokens=lambda t: len(t.split()))
    assert len(passages) > 1
    assert " ".join(p.text for p in passages) == " ".join(sentences)
    for passage in passages:
        assert len(embedding_text(article.title, passage.text).split()) <= 60
        assert passage.text.endswith(".")  # cut between sentences, not inside one


def test_overlong_sentence_is_cut_at_words() -> None:
    article = _article("word " * 500)
    passages = chunk_article(
        article, ChunkSettings(max_tokens=50), count_tokens=lambda t: len(t.split())
    )
    assert all(len(embedding_text("A Title", p.text).split()) <= 50 for p in passages)
    assert sum(len(p.text.split()) for p in passages) == 500


def test_passages_fit_the_real_tokenizer(embedder) -> None:
    # all-MiniLM-L6-v2 reads 256 word pieces and silently drops the rest.
    paragraph = " ".join(
        f"Officials in Ulaanbaatar said on Thursday that negotiations number {i} on "
        "hydroelectricity tariffs had stalled."
        for i in range(60)
    )
    article = _article(paragraph, title="Talks on Hydroelectricity Tariffs Stall Again")
    passages = chunk_article(article, ChunkSettings(max_tokens=256), embedder.count_tokens)
    assert len(passages) >= 3
    for passage in passages:
        assert embedder.count_tokens(embedding_text(article.title, passage.text)) <= 256


def test_chunk_articles_counts_paragraphs_in_one_call_and_cuts_alike(embedder) -> None:
    long = " ".join(f"Talks number {i} on tariffs had stalled again today." for i in range(60))
    articles = [
        _article("Vietnam.", "A longer paragraph that follows the fragment and has words.", long),
        _article("One paragraph of body text, long enough to be a passage.", title="Other"),
    ]
    calls: list[int] = []

    def count_many(texts: list[str]) -> list[int]:
        calls.append(len(texts))
        return embedder.count_tokens_many(texts)

    settings = ChunkSettings(max_tokens=64, min_chars=20)
    chunked = chunk_articles(articles, settings, count_many)
    assert chunked == [chunk_article(a, settings, embedder.count_tokens) for a in articles]
    assert calls[0] == 4  # every paragraph at once; merges and splits are counted after
    assert len(chunked[0]) > 3 and all(n == 1 for n in calls[1:])
    texts = ["Hello world", "", "Putin will then travel to Vietnam."]
    assert embedder.count_tokens_many(texts) == [embedder.count_tokens(t) for t in texts]
    assert chunk_articles([], settings, count_many) == []


def test_title_is_context_not_a_passage() -> None:
    article = _article(
        "Only one paragraph of body text, long enough to be a passage.", title="Headline"
    )
    passages = chunk_article(article, ChunkSettings())
    assert [p.text for p in passages] == [
        "Only one paragraph of body text, long enough to be a passage."
    ]
    assert embedding_text("Headline", passages[0].text).startswith("Headline. ")
