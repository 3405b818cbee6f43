"""Embedding progress on stderr: a tqdm bar on a terminal, a plain line now and then else."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from retrieval.index import BuildProgress


class ProgressPrinter:
    """Reports each embedding run: passages done of the total, passages/s and time left."""

    def __init__(self, stream: TextIO, every: float = 5.0) -> None:
        self.stream = stream
        self.every = every
        self.last_elapsed = 0.0
        self._printed = -every
        self._tty = stream.isatty()
        self._bar: Any = None  # the tqdm bar of the run in progress, on a terminal

    def __call__(self, p: BuildProgress) -> None:
        self.last_elapsed = p.elapsed
        done = p.passages_done >= p.passages_total
        if self._tty:
            self._draw(p, done)
        elif done or p.elapsed - self._printed >= self.every:
            self._printed = p.elapsed
            print(line(p), file=self.stream, flush=True)
        if done:
            self._printed = -self.every  # the next run (the next commit of `add`) starts anew

    def _draw(self, p: BuildProgress, done: bool) -> None:
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(total=p.passages_total, unit="passages", desc="embedding",
                             file=self.stream, dynamic_ncols=True)  # fmt: skip
        self._bar.update(p.passages_done - self._bar.n)
        if done:
            self._bar.close()
            self._bar = None


def line(p: BuildProgress) -> str:
    """One progress line: counts, rate and the time left at that rate."""
    rate = p.passages_done / p.elapsed if p.elapsed > 0 else 0.0
    left = (p.passages_total - p.passages_done) / rate if rate > 0 else 0.0
    return (
        f"embedding: articles {p.articles_done}/{p.articles_total}, passages "
        f"{p.passages_done}/{p.passages_total}, {rate:.0f} passages/s, "
        f"{_duration(left)} left"
    )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
