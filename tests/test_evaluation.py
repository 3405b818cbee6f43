"""The evaluation metrics, on hand-made answers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from retrieval.answer import Answer, Result
from retrieval.errors import NewsbotError
from retrieval.evaluation import (
    EVAL_URL,
    EvalQuestion,
    EvalSet,
    evaluate,
    is_held_out,
    load_eval_set,
    ndcg_at_10,
    rank_of_gold,
    withhold,
)

DAY = date(2024, 1, 1)


def _answer(ids: list[str], text: str = "", answered: bool = True) -> Answer:
    results = tuple(
        Result(rank, rank, EVAL_URL + pid, "t", "s", DAY, 1.0 - rank / 100, "x")
        for rank, pid in enumerate(ids, start=1)
    )
    return Answer("q", answered, text, DAY, results=results)


def test_rank_and_ndcg() -> None:
    gold = frozenset({"b", "d"})
    answer = _answer(["a", "b", "b", "c", "d"])
    assert rank_of_gold(answer, gold) == 2
    # b at rank 2 (its second chunk at 3 does not count again), d at rank 5.
    ideal = 1 + 1 / 1.5849625007211562
    assert ndcg_at_10(answer, gold) == pytest.approx((1 / 1.5849625 + 1 / 2.5849625) / ideal)
    assert ndcg_at_10(_answer(["b", "d"]), gold) == pytest.approx(1.0)
    assert rank_of_gold(_answer(["a"]), gold) is None


def test_evaluate_counts() -> None:
    questions = [
        EvalQuestion("1", "q1", frozenset({"a"}), ("Paris",)),
        EvalQuestion("2", "q2", frozenset({"b"}), ("42",)),
        EvalQuestion("3", "q3", frozenset({"c"}), ("x",)),
        EvalQuestion("4", "q4", frozenset({"z"}), ("y",)),
    ]
    answers = {
        "q1": _answer(["a"], "It is in paris. [1]"),
        "q2": _answer(["x", "y", "b"], "About 40. [1]"),
        "q3": _answer([f"n{i}" for i in range(10)] + ["c"], "", answered=False),
        "q4": _answer([], "", answered=False),
    }
    metrics = evaluate(lambda q: answers[q.question], questions)
    assert (metrics.hit_at_1, metrics.hit_at_5, metrics.hit_at_10) == (0.25, 0.5, 0.5)
    assert metrics.mrr_at_10 == pytest.approx((1 + 1 / 3) / 4)
    assert metrics.answer_found == 0.25 and metrics.not_found == 0.5
    assert metrics.questions == 4 and metrics.p99_ms >= metrics.p50_ms >= 0


def test_load_and_withhold(tmp_path: Path) -> None:
    data = {
        "passages": [
            {"id": f"p{i}", "title": "T", "text": f"Text {i}.", "date": f"2024-05-0{i + 1}"}
            for i in range(4)
        ],
        "questions": [
            {
                "id": "q0",
                "question": "?",
                "gold_passage_ids": ["p0"],
                "answers": [["A", "B"]],
                "date": "2024-06-01",
            },
            {"id": "q1", "question": "?", "gold_passage_ids": ["p1"], "answers": ["C"]},
            {"id": "q2", "question": "?", "gold_passage_ids": ["p0", "p1"], "answers": []},
        ],
    }
    path = tmp_path / "set.json"
    path.write_text(json.dumps(data))
    eval_set = load_eval_set(path)
    assert [a.published for a in eval_set.articles][:2] == [date(2024, 5, 1), date(2024, 5, 2)]
    assert eval_set.questions[0].answers == ("A", "B")
    assert eval_set.questions[0].date == date(2024, 6, 1) and eval_set.questions[1].date is None
    everything = withhold(eval_set, every=1)  # every group's gold passages go
    assert {a.url for a in everything.articles} == {EVAL_URL + "p2", EVAL_URL + "p3"}
    assert everything.answerable == ()
    assert [q.id for q in everything.unanswerable] == ["q0", "q1", "q2"]


def _questions(count: int) -> EvalSet:
    questions = tuple(
        EvalQuestion(f"q{i}", "?", frozenset({f"p{i // 2}"}), ("a",)) for i in range(count)
    )
    return EvalSet("synthetic", (), questions)


def test_withheld_and_held_out_shares_are_stable_and_keep_groups_together() -> None:
    eval_set = _questions(3000)
    split = withhold(eval_set)
    assert 0.2 < len(split.unanswerable) / 3000 < 0.3  # one group in four
    assert withhold(eval_set) == split  # a hash, not a random draw
    held = [is_held_out(q) for q in eval_set.questions]
    assert 0.28 < sum(held) / 3000 < 0.38  # one group in three
    # Two questions of one passage are on one side of both splits.
    assert all(held[i] == held[i + 1] for i in range(0, 3000, 2))
    gone = {q.id for q in split.unanswerable}
    assert all((f"q{i}" in gone) == (f"q{i + 1}" in gone) for i in range(0, 3000, 2))


def test_bad_eval_set(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(
        '{"passages": [], "questions": [{"id": "q", "question": "?", '
        '"gold_passage_ids": ["missing"]}]}'
    )
    with pytest.raises(NewsbotError, match=r"bad\.json"):
        load_eval_set(path)
