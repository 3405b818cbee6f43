"""Model calls planned over texts sorted by length: every text once, within the limits,
and a long text does not make short ones pad to its width."""

from __future__ import annotations

import itertools
import random

from retrieval.embedding.batching import plan_batches


def _padded(lengths: list[int], runs: list[list[int]]) -> int:
    return sum(len(run) * max(lengths[i] for i in run) for run in runs)


def test_every_text_once_within_the_limits_longest_first() -> None:
    rng = random.Random(7)
    lengths = [rng.randint(5, 256) for _ in range(700)]
    runs = plan_batches(lengths, 64, 4096)
    assert sorted(i for run in runs for i in run) == list(range(700))
    for run in runs:
        assert len(run) <= 64 and len(run) * max(lengths[i] for i in run) <= 4096
    widths = [[lengths[i] for i in run] for run in runs]
    assert all(w == sorted(w, reverse=True) for w in widths)
    assert all(a[-1] >= b[0] for a, b in itertools.pairwise(widths))


def test_a_long_text_is_not_padded_with_short_ones() -> None:
    lengths = [12] * 40 + [220] + [10] * 23
    runs = plan_batches(lengths, 64, 4096)
    # alone, rather than with 17 short texts padded to its 220 pieces (4,512 in all)
    assert [40] in runs
    assert _padded(lengths, runs) == 220 + 63 * 12


def test_a_text_longer_than_the_limit_still_gets_a_call() -> None:
    assert plan_batches([5000, 3], 64, 4096) == [[0], [1]]
    assert plan_batches([], 64, 4096) == []
