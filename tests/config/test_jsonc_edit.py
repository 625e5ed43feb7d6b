"""`update_jsonc` changes only the spans of the values it sets: comments, order,
indentation and other keys survive byte for byte."""

from __future__ import annotations

import pytest

from bridle.config.jsonc import parse_jsonc
from bridle.config.jsonc_edit import update_jsonc
from bridle.core.errors import ConfigError

COMMENTED = """\
// my settings
{
  /* the look */
  "theme": "nord", // dark, please
  "model": "mock/echo",
  "permissions": {"allow": ["Bash(git *)"]},
  "autoCompactEnabled": true,
}
"""


def test_changed_value_is_the_only_difference() -> None:
    out = update_jsonc(COMMENTED, {("theme",): "dracula", ("autoCompactEnabled",): False})
    assert out == COMMENTED.replace('"nord"', '"dracula"').replace("true,", "false,")


def test_missing_key_goes_after_the_last_member_on_its_own_line() -> None:
    out = update_jsonc(COMMENTED, {("tmuxPortal",): True})
    assert out == COMMENTED.replace(
        '"autoCompactEnabled": true,\n', '"autoCompactEnabled": true,\n  "tmuxPortal": true,\n'
    )
    assert parse_jsonc(out)["tmuxPortal"] is True


def test_missing_key_after_a_line_comment_and_no_comma() -> None:
    text = '{\n    "a": 1 // one\n}\n'
    out = update_jsonc(text, {("b",): "x"})
    assert out == '{\n    "a": 1, // one\n    "b": "x"\n}\n'


def test_nested_key_and_missing_objects() -> None:
    text = '{\n  "agents": {\n    "max_depth": 2 // deep\n  }\n}\n'
    out = update_jsonc(text, {("agents", "max_depth"): 3, ("a", "b"): [1]})
    assert (
        out
        == '{\n  "agents": {\n    "max_depth": 3 // deep\n  },\n  "a": {\n    "b": [1]\n  }\n}\n'
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", '{\n  "k": 1\n}\n'),
        ("// nothing yet\n", '// nothing yet\n{\n  "k": 1\n}\n'),
        ("{}", '{\n  "k": 1\n}'),
        ('{"a": 1}', '{"a": 1, "k": 1}'),
        ('{"a": 1,}', '{"a": 1, "k": 1,}'),
        ('{"k": "//x", "k": 0}', '{"k": "//x", "k": 1}'),
    ],
)
def test_shapes(text: str, expected: str) -> None:
    out = update_jsonc(text, {("k",): 1})
    assert out == expected
    assert parse_jsonc(out)["k"] == 1


def test_strings_with_comment_markers_and_escapes_are_kept() -> None:
    text = '{"url": "https://x//y /* no */", "q": "a\\"b", "n": null}'
    out = update_jsonc(text, {("n",): "é"})
    assert out == '{"url": "https://x//y /* no */", "q": "a\\"b", "n": "é"}'


def test_not_an_object_and_a_scalar_on_the_path_are_errors() -> None:
    with pytest.raises(ConfigError, match="settings object"):
        update_jsonc("[1]", {("k",): 1}, path="s.json")
    with pytest.raises(ConfigError, match="must be an object") as info:
        update_jsonc('{"agents": 3}', {("agents", "max_depth"): 1}, path="s.json")
    assert info.value.key == "agents"
