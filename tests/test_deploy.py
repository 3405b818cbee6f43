"""The container's entry point (deploy/start.sh) and what the Dockerfile promises.

deploy/build.sh needs a fresh install, so .ci/run runs it (deploy/smoke.sh) rather than
the test suite; start.sh runs here with this venv's newsbot.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

START = ROOT / "deploy" / "start.sh"


def start(data_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "NEWSBOT_BIN": str(Path(sys.executable).parent / "newsbot"),
        "NEWSBOT_DATA_DIR": str(data_dir),
        "HF_HUB_OFFLINE": "1",
        "XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"],
    }
    return subprocess.run([str(START), *argv], env=env, capture_output=True, text=True, timeout=300)


def test_start_indexes_the_seeds_once_then_runs_the_command(tmp_path: Path) -> None:
    first = start(tmp_path / "data", "ask", "When is Putin visiting Pyongyang?")
    assert first.returncode == 0, first.stderr
    assert "no index in" in first.stderr and "June 18" in first.stdout
    again = start(tmp_path / "data", "health")
    assert again.returncode == 0, again.stderr
    assert "indexing" not in again.stderr and again.stdout.startswith("ok: generation 1")


def test_start_runs_telegram_by_default_and_passes_its_exit_code(tmp_path: Path) -> None:
    result = start(tmp_path / "data")
    assert result.returncode == 2
    assert "error: NEWSBOT_TELEGRAM_TOKEN is not set" in result.stderr


def test_the_dockerfile_runs_the_scripts_as_a_user_with_a_volume_and_a_healthcheck() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    instructions = re.findall(r"^([A-Z]+) (.*)$", dockerfile, flags=re.MULTILINE)
    found = {name: value for name, value in instructions}
    assert found["RUN"].startswith("deploy/build.sh /opt/newsbot/venv /opt/newsbot/models")
    assert found["USER"] == "newsbot" and found["VOLUME"] == '["/data"]'
    assert found["ENTRYPOINT"] == '["/opt/newsbot/src/deploy/start.sh"]'
    assert 'CMD ["newsbot", "health"]' in dockerfile.split("HEALTHCHECK", 1)[1]
    assert "NEWSBOT_DATA_DIR=/data" in dockerfile
    assert "NEWSBOT_MODEL_CACHE_DIR=/opt/newsbot/models" in dockerfile
