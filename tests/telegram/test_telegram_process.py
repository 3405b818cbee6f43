"""`newsbot telegram` as a real process, against the fake Bot API server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from conftest import SEED_URL, TOKEN
from fake_bot_api import FakeBotApi
from telegram_updates import text_update

REPO = Path(__file__).resolve().parents[2]


def clean_env(**values: str) -> dict[str, str]:
    """The environment without any NEWSBOT_ setting of the developer's, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env["PYTHONPATH"] = str(REPO)
    env.update(values)
    return env


def test_newsbot_telegram_answers_a_question(tmp_path: Path, fake_api: FakeBotApi) -> None:
    env = clean_env(
        NEWSBOT_DATA_DIR=str(tmp_path / "data"),
        NEWSBOT_TELEGRAM_TOKEN=TOKEN,
        NEWSBOT_TELEGRAM_BASE_URL=fake_api.base_url,
        NEWSBOT_LOG_LEVEL="DEBUG",
    )
    index = [sys.executable, "-m", "bot", "index", "seeds"]
    built = subprocess.run(index, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    question = text_update(5151, "When will Putin visit North Korea?")
    fake_api.push_update(question)
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "telegram"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        [reply] = fake_api.wait_for("sendMessage", timeout=120)
    finally:
        bot.send_signal(signal.SIGTERM)
        _, stderr = bot.communicate(timeout=30)
    assert reply.params["chat_id"] == 5151
    assert reply.params["reply_parameters"]["message_id"] == question["message"]["message_id"]
    assert f'href="{SEED_URL}"' in reply.params["text"]
    assert bot.returncode == 0, stderr[-2000:]
    assert "Calling Bot API endpoint `sendMessage`" in stderr  # debug logging was on
    assert TOKEN not in stderr


def test_newsbot_telegram_without_a_token_says_so(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "telegram"],
        cwd=tmp_path, env=clean_env(NEWSBOT_DATA_DIR=str(tmp_path)),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("error: NEWSBOT_TELEGRAM_TOKEN is not set")
