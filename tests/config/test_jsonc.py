"""JSONC parsing and $VAR expansion, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from bridle.config.jsonc import expand_vars, parse_jsonc
from bridle.core.errors import ConfigError

PARSE_CASES: list[tuple[str, str, Any]] = [
    ("plain", '{"a": 1}', {"a": 1}),
    ("empty file", "  \n", {}),
    ("bom", '\ufeff{"a": 1}', {"a": 1}),
    ("line comment", '{\n  // note\n  "a": 1 // trailing\n}', {"a": 1}),
    ("block comment", '{ /* one\n two */ "a": /* inline */ 1 }', {"a": 1}),
    ("trailing comma object", '{"a": 1, "b": [1, 2,],}', {"a": 1, "b": [1, 2]}),
    ("trailing comma before comment", '{"a": 1, // c\n}', {"a": 1}),
    ("url keeps slashes", '{"u": "https://x.example//y"}', {"u": "https://x.example//y"}),
    ("comment markers in string", '{"s": "/* not */ // kept"}', {"s": "/* not */ // kept"}),
    ("escaped quote in string", r'{"s": "say \"//hi\"", "t": 2}', {"s": 'say "//hi"', "t": 2}),
    ("comma inside string before brace", '{"s": ",}"}', {"s": ",}"}),
    ("nested", '{"p": {"allow": ["Read",],},}', {"p": {"allow": ["Read"]}}),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in PARSE_CASES], ids=[c[0] for c in PARSE_CASES]
)
def test_parse_jsonc(text: str, expected: Any) -> None:
    assert parse_jsonc(text, "f.json") == expected


ERROR_CASES = [
    ("missing comma", '{\n  "a": 1\n  "b": 2\n}', "f.json: invalid JSON at line 3 column 3"),
    (
        "error after comment keeps line",
        '// c\n/* d\n*/ {"a": }',
        "f.json: invalid JSON at line 3 column 10",
    ),
    (
        "unterminated comment",
        '{"a": 1}\n/* open',
        "f.json: unterminated /* comment starting on line 2",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_parse_errors_name_file_and_position(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_jsonc(text, "f.json")
    assert str(err.value).startswith(message)
    assert err.value.path == "f.json"


ENV = {"HOME": "/home/u", "TOKEN": "t0k", "EMPTY": ""}
EXPAND_CASES: list[tuple[str, Any, Any]] = [
    ("bare", "$HOME/x", "/home/u/x"),
    ("braced", "${HOME}x", "/home/ux"),
    ("default unused", "${TOKEN:-d}", "t0k"),
    ("default used", "${NOPE:-fallback}", "fallback"),
    ("empty default", "${NOPE:-}", ""),
    ("empty var with default", "${EMPTY:-d}", "d"),
    ("empty var without default", "a${EMPTY}b", "ab"),
    ("dollar escape", "cost $$5", "cost $5"),
    ("no var", "plain $ 5", "plain $ 5"),
    (
        "nested structures",
        {"a": ["$TOKEN", 1, True], "b": {"c": "${HOME}"}},
        {"a": ["t0k", 1, True], "b": {"c": "/home/u"}},
    ),
]


@pytest.mark.parametrize(
    ("value", "expected"), [c[1:] for c in EXPAND_CASES], ids=[c[0] for c in EXPAND_CASES]
)
def test_expand_vars(value: Any, expected: Any) -> None:
    assert expand_vars(value, ENV, path="f.json") == expected


def test_undefined_variable_names_file_and_key() -> None:
    with pytest.raises(ConfigError) as err:
        expand_vars({"providers": {"x": {"api_key": "$MISSING_KEY"}}}, ENV, path="/p/settings.json")
    assert err.value.path == "/p/settings.json"
    assert err.value.key == "providers.x.api_key"
    assert str(err.value).startswith(
        "/p/settings.json: providers.x.api_key: $MISSING_KEY is not set"
    )


def test_undefined_variable_in_list_names_index() -> None:
    with pytest.raises(ConfigError) as err:
        expand_vars({"a": ["ok", "${NOPE}"]}, ENV, path="s.json")
    assert err.value.key == "a[1]"


def test_skipped_top_level_keys_stay_verbatim() -> None:
    data = {
        "hooks": {"Stop": "echo $UNSET"},
        "permissions": {"allow": ["Bash(echo $X)"]},
        "m": "$HOME",
    }
    out = expand_vars(data, ENV, skip=frozenset({"hooks", "permissions"}))
    assert out == {
        "hooks": {"Stop": "echo $UNSET"},
        "permissions": {"allow": ["Bash(echo $X)"]},
        "m": "/home/u",
    }
