"""core.jsontext: JSON whose text always encodes as UTF-8, with lone surrogates
(bytes that were not UTF-8) as `\\udcXX` escapes that load back unchanged."""

from __future__ import annotations

import json

from bridle.core.jsontext import dumps, escape_surrogates

NAME = b"caf\xe9.txt".decode("utf-8", "surrogateescape")


def test_lone_surrogates_become_escapes_and_load_back() -> None:
    value = {"path": NAME, "text": "cut \ud83d", "ok": "naïve ✅"}
    text = dumps(value)
    text.encode("utf-8")  # would raise with ensure_ascii=False alone
    assert '"caf\\udce9.txt"' in text and '"cut \\ud83d"' in text
    assert "naïve ✅" in text  # everything else stays readable
    assert json.loads(text) == value


def test_same_text_as_json_dumps_without_surrogates() -> None:
    value = {"a": [1, "é"], "b": None}
    assert dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert dumps(value, indent=2) == json.dumps(value, ensure_ascii=False, indent=2)
    assert dumps(value, compact=False) == json.dumps(value, ensure_ascii=False)
    assert escape_surrogates('"x"') == '"x"'
