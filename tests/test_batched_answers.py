"""A batch of questions gathered together is answered exactly as each question alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from retrieval.answer import Answer, Question
from retrieval.answering import Answerer
from retrieval.chunking import ChunkSettings
from retrieval.evaluation import load_eval_set, passage_id
from retrieval.index import EmbeddedStorage, IndexSpec, build_index, open_index

XQUAD = Path(__file__).parent / "data" / "xquad_en.json"
LATER = date(2100, 1, 1)


@pytest.fixture(scope="module")
def xquad_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Path, list[str]]:
    """An index of 40 XQuAD passages and the questions asked about them."""
    eval_set = load_eval_set(XQUAD)
    articles = eval_set.articles[:40]
    kept = {passage_id(a.url) for a in articles}
    questions = [q.question for q in eval_set.questions if q.gold & kept]
    data_dir = tmp_path_factory.mktemp("xquad-batch")
    build_index(data_dir, articles, embedder, ChunkSettings())
    return data_dir, questions[:30]


def _essence(answer: Answer) -> tuple[object, ...]:
    return (answer.text, answer.answered, answer.decline_reason, answer.confidence,
            [(r.passage_id, r.score, r.also_reported_by) for r in answer.results],
            answer.citations, answer.short_answer)  # fmt: skip


def test_a_batch_answers_as_each_question_alone(xquad_index, embedder) -> None:
    data_dir, questions = xquad_index
    assert len(questions) >= 20
    answerer = Answerer(EmbeddedStorage(data_dir, IndexSpec(embedder.name, ChunkSettings())),
                        embedder)  # fmt: skip
    # Mixed top_k (searches of two sizes in one batch), a follow-up with context, an old date.
    asked = [Question(q, as_of=LATER) for q in questions]
    asked[3] = replace(asked[3], top_k=2)
    asked[7] = replace(asked[7], context=questions[6])
    asked[11] = replace(asked[11], as_of=date(1999, 12, 31))  # before every passage
    together = answerer.answer_many(asked)
    alone = [answerer.answer(q.text, top_k=q.top_k, as_of=q.as_of, context=q.context)
             for q in asked]  # fmt: skip
    assert [_essence(a) for a in together] == [_essence(a) for a in alone]
    assert sum(a.answered for a in together) >= len(asked) // 2
    assert len(together[3].results) <= 2 and not together[11].results


def test_one_faiss_call_finds_what_each_search_finds(xquad_index, embedder) -> None:
    data_dir, questions = xquad_index
    reader = open_index(data_dir, IndexSpec(embedder.name, ChunkSettings()))
    queries = embedder.encode(questions[:8])
    together = reader.search_many(queries, 20)
    assert together == [reader.search(q, 20) for q in queries]
    assert all(len(found) == 20 for found in together)
    assert reader.search_many(np.zeros((0, queries.shape[1]), np.float32), 20) == []
    reader.close()


def test_kept_passages_read_as_the_store_reads_them(xquad_index, embedder) -> None:
    data_dir, _ = xquad_index
    reader = open_index(data_dir, IndexSpec(embedder.name, ChunkSettings()))
    first = reader.passages([5, 3, 9])
    again = reader.passages([9, 1, 3, 10_000])  # 9 and 3 kept, 1 read, 10,000 not there
    assert list(first) == [3, 5, 9] and list(again) == [1, 3, 9]
    assert again == reader.store.passages([1, 3, 9])
    reader.close()


def test_a_batch_asked_again_from_warm_caches_answers_the_same(xquad_index, embedder) -> None:
    data_dir, questions = xquad_index
    storage = EmbeddedStorage(data_dir, IndexSpec(embedder.name, ChunkSettings()))
    asked = [Question(q, as_of=LATER) for q in questions[::-1]]  # another order than above
    alone = [Answerer(storage, embedder).answer(q.text, as_of=LATER) for q in asked[:5]]
    answerer = Answerer(storage, embedder)
    first, again = answerer.answer_many(asked), answerer.answer_many(asked)
    assert [_essence(a) for a in again] == [_essence(a) for a in first]
    assert [_essence(a) for a in first[:5]] == [_essence(a) for a in alone]
