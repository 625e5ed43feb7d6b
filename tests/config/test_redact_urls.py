"""`--print-config` masks the password inside a URL (defect 17): any string
value shaped `scheme://user:password@host` shows `user:****@`, a lone token
user shows `****@`, wherever it sits (providers, env, lists), and text that is
not such a URL is left alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridle.config.settings import Settings


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("https://user:secret@proxy.example:8080/v1", "https://user:****@proxy.example:8080/v1"),
        ("http://alice:s3cr3t@10.0.0.1", "http://alice:****@10.0.0.1"),
        ("https://ghp_tokenonly@github.example/x", "https://****@github.example/x"),
        ("socks5h://u:p@h:1080", "socks5h://u:****@h:1080"),
        # An `@` in the password (unencoded, as people type it) hides all of it.
        ("https://user:p@ss@host/path", "https://user:****@host/path"),
        ("see https://a:b@h and https://c:d@i", "see https://a:****@h and https://c:****@i"),
        ("https://api.example/v1?mail=a@b.c", "https://api.example/v1?mail=a@b.c"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("someone@example.com", "someone@example.com"),
        ("https://api.openai.com/v1", "https://api.openai.com/v1"),
    ],
)
def test_url_passwords_are_masked(value: str, shown: str) -> None:
    settings = Settings(
        data={
            "providers": {"corp": {"base_url": value, "wire": "openai-chat"}},
            "env": {"HTTPS_PROXY": value},
            "list": [value, {"deep": value}],
        }
    )
    assert settings.redacted() == {
        "providers": {"corp": {"base_url": shown, "wire": "openai-chat"}},
        "env": {"HTTPS_PROXY": shown},
        "list": [shown, {"deep": shown}],
    }
    assert settings.data["providers"]["corp"]["base_url"] == value  # only the view is masked


def test_print_config_shows_no_url_password(tmp_path: Path) -> None:
    (tmp_path / ".bridle").mkdir()
    (tmp_path / ".bridle" / "settings.json").write_text(
        json.dumps(
            {
                "providers": {
                    "corp": {"wire": "openai-chat", "base_url": "https://bob:hunter2@llm.corp/v1"}
                }
            }
        )
    )
    proc = subprocess.run(
        [sys.executable, "-m", "bridle", "--print-config"],
        cwd=tmp_path,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "hunter2" not in proc.stdout
    assert "https://bob:****@llm.corp/v1" in proc.stdout
