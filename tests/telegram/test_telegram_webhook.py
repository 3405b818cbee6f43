"""Webhook mode: `run_bot` listens for Telegram's POSTs and checks the secret token."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from conftest import SEED_URL, FakeAnswerer, make_settings
from fake_bot_api import FakeBotApi
from telegram_updates import text_update

from bot.telegram import run_bot
from retrieval.index import CURRENT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def post(url: str, body: dict[str, object], secret: str) -> int:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.usefixtures("main_loop")
def test_webhook_mode_answers_updates_with_the_right_secret(
    tmp_path: Path, fake_api: FakeBotApi, answerer: FakeAnswerer
) -> None:
    port = free_port()
    settings = make_settings(
        tmp_path, fake_api,
        telegram_webhook_url="https://bot.example/telegram/hook",
        telegram_webhook_listen="127.0.0.1", telegram_webhook_port=port,
        telegram_webhook_secret="s3cret-path-token",
    )  # fmt: skip
    statuses: list[int] = []

    def drive() -> None:
        try:
            fake_api.wait_for("setWebhook", timeout=20)
            url = f"http://127.0.0.1:{port}/telegram/hook"
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    statuses.append(post(url, text_update(1, "Forged?"), "wrong"))
                    break
                except OSError:
                    time.sleep(0.05)  # not listening yet
            statuses.append(post(url, text_update(2, "Where is Putin going?"), "s3cret-path-token"))
            fake_api.wait_for("sendMessage", timeout=10)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # run_bot stops on SIGTERM, as in production

    driver = threading.Thread(target=drive)
    driver.start()
    run_bot(settings, answerer)
    driver.join()
    [webhook] = fake_api.calls_to("setWebhook")
    assert webhook.params["url"] == "https://bot.example/telegram/hook"
    assert webhook.params["secret_token"] == "s3cret-path-token"
    assert statuses == [403, 200]
    assert answerer.calls == [("Where is Putin going?", None)]
    [reply] = fake_api.calls_to("sendMessage")
    assert reply.params["chat_id"] == 2 and f'href="{SEED_URL}"' in reply.params["text"]


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.usefixtures("main_loop")
def test_healthz_reports_the_live_index_and_503_when_it_is_gone(
    tmp_path: Path, fake_api: FakeBotApi, answerer: FakeAnswerer, seed_data_dir: Path
) -> None:
    data_dir = Path(shutil.copytree(seed_data_dir, tmp_path / "data"))
    port = free_port()
    settings = make_settings(
        data_dir, fake_api,
        telegram_webhook_url="https://bot.example/hook", telegram_webhook_port=port,
    )  # fmt: skip
    seen: list[tuple[int, dict[str, object]]] = []

    def drive() -> None:
        try:
            fake_api.wait_for("setWebhook", timeout=20)
            seen.append(get(f"http://127.0.0.1:{port}/healthz"))
            # A lost CURRENT alone is recovered from (the newest complete generation): the
            # index is gone only when no generation is left.
            (data_dir / CURRENT).unlink()
            for generation in data_dir.glob("gen-*"):
                shutil.rmtree(generation)
            seen.append(get(f"http://127.0.0.1:{port}/healthz"))
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    driver = threading.Thread(target=drive)
    driver.start()
    run_bot(settings, answerer)
    driver.join()
    (ok, body), (gone, problem) = seen
    assert ok == 200 and body["status"] == "ok"
    assert (body["generation"], body["articles"], body["newest_article"]) == (1, 1, "2024-06-17")
    assert body["newest_article_age_days"] == (date.today() - date(2024, 6, 17)).days
    assert gone == 503 and problem["status"] == "error" and "no index" in str(problem["error"])
