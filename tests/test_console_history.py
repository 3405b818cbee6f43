"""The console on a real terminal (a pty): arrow keys recall lines, kept across sessions."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.history import HISTORY_FILE
from tests.conftest import ROOT

UP = "\x1b[A"


class Terminal:
    """`newsbot console` with a pty as its terminal."""

    def __init__(self, env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "console"],
            stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, close_fds=True,
        )  # fmt: skip
        os.close(slave)
        self.output = ""

    def read_until(self, text: str, timeout: float = 60.0) -> str:
        """Everything printed up to and including the next ``text``."""
        deadline = time.monotonic() + timeout
        while text not in self.output:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {text!r} in {self.output!r}"
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    self.output += os.read(self.master, 4096).decode(errors="replace")
                except OSError:  # the console exited and the pty closed
                    break
        assert text in self.output, self.output
        before, _, self.output = self.output.partition(text)
        return before + text

    def type(self, keys: str) -> str:
        """Type ``keys`` and return what the console printed before its next prompt."""
        os.write(self.master, keys.encode())
        return self.read_until("newsbot> ")

    def close(self) -> int:
        """Wait for the console to leave; its exit code."""
        code = self.process.wait(timeout=30)
        os.close(self.master)
        return code


@pytest.fixture
def console_env(tmp_path: Path, seed_data_dir: Path) -> dict[str, str]:
    data = tmp_path / "data"
    shutil.copytree(seed_data_dir, data)
    return {
        "PATH": "/usr/bin:/bin",
        "NEWSBOT_DATA_DIR": str(data),
        "HF_HUB_OFFLINE": "1",
        "TERM": "xterm",
        "XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"],
    }


def test_up_arrow_recalls_lines_within_and_across_sessions(console_env: dict[str, str]) -> None:
    first = Terminal(console_env)
    first.read_until("newsbot> ")
    assert "Commands:" in first.type(":help\r")
    assert "Retrieval trace on" in first.type(":verbose\r")
    recalled = first.type(UP + UP + "\r")  # the line before last: :help
    assert "Commands:" in recalled and "^[[A" not in recalled
    os.write(first.master, b":quit\r")
    assert first.close() == 0
    history = Path(console_env["NEWSBOT_DATA_DIR"]) / HISTORY_FILE
    assert history.read_text().split() == [":help", ":verbose", ":help", ":quit"]

    second = Terminal(console_env)
    second.read_until("newsbot> ")
    assert "Retrieval trace on" in second.type(UP + UP + UP + "\r")  # :verbose, from the file
    os.write(second.master, b":quit\r")
    assert second.close() == 0


def test_piped_input_keeps_no_history(console_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input=":help\n:quit\n", env=console_env, cwd=ROOT, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0 and "Commands:" in result.stdout
    assert not (Path(console_env["NEWSBOT_DATA_DIR"]) / HISTORY_FILE).exists()
