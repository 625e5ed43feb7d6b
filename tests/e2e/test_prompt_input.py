"""What `bridle -p` reads besides flags: prompt files, `--prompt-each` lists,
`--file` attachments and `--image`s.

Bad input (text that is not UTF-8, a binary passed as `--file`, a file passed as
`--image` that is no image a provider accepts) is a usage error (exit 64) that
names the file and the fix, and it is found before any work starts: no session
is created and the model is never asked. Good input reaches the model as it
should: images with the media type their content has, whatever their name.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 16
GIF = b"GIF89a\x01\x00\x01\x00" + b"\x00" * 16
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8 " + b"\x00" * 16


def bridle(
    tmp: Path, *args: str, stdin: bytes = b"", turns: list[dict[str, object]] | None = None
) -> subprocess.CompletedProcess[str]:
    scenario = tmp / "scenario.json"
    scenario.write_text(
        json.dumps({"name": "s", "prompt": "p", "final": "done", "turns": turns or []})
    )
    env = dict(os.environ)
    env.pop("BRIDLE_MOCK_BASE_URL", None)
    env["BRIDLE_MOCK_SCENARIO"] = str(scenario)
    work = tmp / "work"
    work.mkdir(exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "bridle", "--model", "mock/anthropic", "--output-format", "json",
         *args],
        cwd=work, env=env, input=stdin, capture_output=True, timeout=120,
    )  # fmt: skip
    return subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        proc.stdout.decode("utf-8"),
        proc.stderr.decode("utf-8"),
    )


def sessions(home: Path) -> list[str]:
    db = home / "bridle.db"
    if not db.exists():
        return []
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM sessions")]
    finally:
        conn.close()


def user_payload(home: Path) -> dict[str, object]:
    conn = sqlite3.connect(home / "bridle.db")
    try:
        (payload,) = conn.execute("SELECT payload FROM events WHERE kind = 'user'").fetchone()
    finally:
        conn.close()
    return dict(json.loads(payload))


def assert_refused(run: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert run.returncode == 64, run.stderr
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    assert run.stderr.startswith("bridle: ") and run.stderr.count("\n") == 1, run.stderr
    for needle in needles:
        assert needle in run.stderr, run.stderr
    assert sessions(Path(os.environ["BRIDLE_HOME"])) == []


# ------------------------------------------------------------ text that is not UTF-8


def test_prompt_file_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_bytes(b"fix the caf" + b"\xe9 bug\n")
    run = bridle(tmp_path, "-p", "--prompt-file", str(prompt))
    assert_refused(run, f"--prompt-file {prompt}", "not UTF-8", "offset 11", "iconv")


def test_prompt_each_file_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    items = tmp_path / "items.txt"
    items.write_bytes(b"one\ntwo\nfa\xe7ade\n")
    run = bridle(tmp_path, "-p", "say {{input}}", "--prompt-each", str(items))
    assert_refused(run, f"--prompt-each {items}", "not UTF-8", "offset 10", "iconv")


def test_prompt_on_stdin_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    run = bridle(tmp_path, "-p", stdin=b"r\xe9sum\xe9 this\n")
    assert_refused(run, "stdin", "not UTF-8", "offset 1", "iconv")


def test_utf8_prompt_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_bytes(b"\xef\xbb\xbfsay caf\xc3\xa9\n")
    run = bridle(tmp_path, "-p", "--prompt-file", str(prompt))
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["result"] == "done"
    content = user_payload(Path(os.environ["BRIDLE_HOME"]))
    assert "say café" in json.dumps(content, ensure_ascii=False)
    assert "\ufeff" not in json.dumps(content, ensure_ascii=False)


# ----------------------------------------------------------------------- --image


@pytest.mark.parametrize(
    ("data", "media"),
    [(PNG, "image/png"), (JPEG, "image/jpeg"), (GIF, "image/gif"), (WEBP, "image/webp")],
    ids=["png", "jpeg", "gif", "webp"],
)
def test_image_media_type_comes_from_the_content(tmp_path: Path, data: bytes, media: str) -> None:
    # The name says PNG for every one of them; the bytes decide.
    image = tmp_path / "shot.png"
    image.write_bytes(data)
    run = bridle(tmp_path, "-p", "describe it", "--image", str(image))
    assert run.returncode == 0, run.stderr
    stored = json.dumps(user_payload(Path(os.environ["BRIDLE_HOME"])))
    assert f'"media_type": "{media}"' in stored
    assert base64.b64encode(data).decode() in stored


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("notes.png", b"just some text\n", "text"),
        ("scan.png", b"BM" + b"\x00" * 60, "a BMP image"),
        ("doc.jpg", b"%PDF-1.7\n" + b"\x00" * 40, "a PDF document"),
        ("pic.gif", b"\x7fELF\x02\x01\x01" + b"\x00" * 40, "an ELF executable"),
        ("blob.webp", b"\x00\x01\x02\x03\xfe\xff" * 10, "binary data"),
    ],
    ids=["text", "bmp", "pdf", "elf", "unknown"],
)
def test_image_that_is_not_png_jpeg_gif_or_webp_is_refused(
    tmp_path: Path, name: str, data: bytes, kind: str
) -> None:
    image = tmp_path / name
    image.write_bytes(data)
    run = bridle(tmp_path, "-p", "describe it", "--image", str(image))
    assert_refused(run, f"--image {image}", kind, "PNG, JPEG, GIF or WebP")


# ------------------------------------------------------------------------ --file


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PNG, "a PNG image; attach images with --image"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 400, "an ELF executable"),
        (b"text with a \x00 NUL byte\n", "binary data"),
    ],
    ids=["png", "elf", "nul"],
)
def test_binary_file_is_refused_before_any_work(tmp_path: Path, data: bytes, kind: str) -> None:
    blob = tmp_path / "blob.txt"
    blob.write_bytes(data)
    run = bridle(tmp_path, "-p", "look", "--file", str(blob))
    assert_refused(run, f"--file {blob}", "not text", kind)


def test_file_that_is_not_utf8_is_refused_with_the_fix(tmp_path: Path) -> None:
    latin = tmp_path / "legacy.c"
    latin.write_bytes(b"/* Fran\xe7ois */\nint main(void) { return 0; }\n")
    run = bridle(tmp_path, "-p", "look", "--file", str(latin))
    assert_refused(run, f"--file {latin}", "not UTF-8", "offset 7", "iconv")


def test_text_file_is_fenced_into_the_prompt(tmp_path: Path) -> None:
    source = tmp_path / "hello.py"
    # A character cut in two by the end of the sniffed 8 KB is still text.
    body = "x = 1\n" * 1364 + "#" * 7 + "é\n"
    assert body.encode().index("é".encode()) == 8191
    source.write_text(body)
    run = bridle(tmp_path, "-p", "look", "--file", str(source))
    assert run.returncode == 0, run.stderr
    text = json.dumps(user_payload(Path(os.environ["BRIDLE_HOME"])), ensure_ascii=False)
    assert f"{source}:\\n```\\n" in text and "#######é" in text
