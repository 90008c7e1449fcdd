"""`rasa test core` on nlu/tests/test_stories.yml, with the trained model and the real action
server of the session's stack: every predicted action must match the stories."""

from __future__ import annotations

import os
import subprocess

from bot.config import ROOT
from bot.devtools.stack import MODEL, RASA


def test_rasa_test_stories_pass(stack, tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: \"http://127.0.0.1:{stack.actions_port}/webhook\"\n")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [str(RASA), "test", "core", "--stories", str(ROOT / "nlu" / "tests" / "test_stories.yml"),
         "--model", str(MODEL), "--endpoints", str(endpoints), "--out", str(tmp_path / "out"),
         "--fail-on-prediction-errors"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    failed = (tmp_path / "out" / "failed_test_stories.yml")
    details = failed.read_text() if failed.exists() else result.stdout[-3000:]
    assert result.returncode == 0, details
