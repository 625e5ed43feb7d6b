"""The shell parser: which simple commands a line runs, with wrappers, redirections
and substitutions, and which lines it refuses to guess about."""

from __future__ import annotations

import pytest

from bridle.policy.shell import SimpleCommand, Unparseable, parse_command


def _argvs(source: str) -> list[list[str]]:
    result = parse_command(source)
    assert not isinstance(result, Unparseable), result
    return [c.args for c in result]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("ls -la", [["ls", "-la"]]),
        ("a && b || c; d | e & f", [["a"], ["b"], ["c"], ["d"], ["e"], ["f"]]),
        ("a\nb", [["a"], ["b"]]),
        ('echo "a && b"', [["echo", "a && b"]]),
        ("echo 'x;y' \"z|w\"", [["echo", "x;y", "z|w"]]),
        ('echo "a\\"b" \\$HOME', [["echo", 'a"b', "$HOME"]]),
        ("echo $'a\\tb\\x41'", [["echo", "a\tbA"]]),
        ("echo a\\ b", [["echo", "a b"]]),
        ("echo $(git push)", [["git", "push"], ["echo", "$(git push)"]]),
        ("echo `id`", [["id"], ["echo", "`id`"]]),
        ("echo $(a $(b))", [["b"], ["a", "$(b)"], ["echo", "$(a $(b))"]]),
        ("diff <(ls a) b", [["ls", "a"], ["diff", "<(ls a)", "b"]]),
        ('echo "$(date) `whoami`"', [["date"], ["whoami"], ["echo", "$(date) `whoami`"]]),
        ("echo $(echo ')')", [["echo", ")"], ["echo", "$(echo ')')"]]),
        ("(a; b) && { c; }", [["a"], ["b"], ["c"]]),
        ("if a; then b; elif c; then d; else e; fi", [["a"], ["b"], ["c"], ["d"], ["e"]]),
        ("while a; do b; done", [["a"], ["b"]]),
        ("for x in $(ls); do echo $x; done", [["ls"], ["echo", "$x"]]),
        ("X=1 Y=$(id) make", [["id"], ["make"]]),
        ("bash -c 'a && b' ignored", [["a"], ["b"]]),
        ('sh -ec "x | y"', [["x"], ["y"]]),
        ("ls # a comment && rm", [["ls"]]),
        ("echo $((1 + 2))", [["echo", "$((1 + 2))"]]),
        ("echo ${HOME:-/x}", [["echo", "${HOME:-/x}"]]),
        ("cat <<'EOF'\n$(rm -rf /)\nEOF\nls", [["cat"], ["ls"]]),
        ("cat <<-EOF\n\tplain\n\tEOF", [["cat"]]),
        ('grep x <<< "$(id)"', [["id"], ["grep", "x"]]),
        ("", []),
    ],
)
def test_simple_commands(source: str, expected: list[list[str]]) -> None:
    assert _argvs(source) == expected


@pytest.mark.parametrize(
    ("source", "argv", "wrappers"),
    [
        ("sudo -u root rm -rf /", ["rm", "-rf", "/"], [["sudo", "-u", "root"]]),
        ("env -i X=1 git push", ["git", "push"], [["env", "-i", "X=1"]]),
        ("timeout -k 5 10 make", ["make"], [["timeout", "-k", "5", "10"]]),
        (
            "nice -n 5 nohup time -p make",
            ["make"],
            [["nice", "-n", "5"], ["nohup"], ["time", "-p"]],
        ),
        ("command exec git log", ["git", "log"], [["command"], ["exec"]]),
        ("stdbuf -oL tail -f x", ["tail", "-f", "x"], [["stdbuf", "-oL"]]),
        ("xargs -n 1 -I {} rm {}", ["rm", "{}"], [["xargs", "-n", "1", "-I", "{}"]]),
        ("sudo -l", ["sudo", "-l"], []),
        ("command -v git", ["command", "-v", "git"], []),
        ("nice", ["nice"], []),
    ],
)
def test_wrappers(source: str, argv: list[str], wrappers: list[list[str]]) -> None:
    result = parse_command(source)
    assert isinstance(result, list) and len(result) == 1
    cmd = result[0]
    assert cmd.args == argv
    assert [[w.text for w in layer] for layer in cmd.wrappers] == wrappers


def test_xargs_is_open_ended_and_defaults_to_echo() -> None:
    result = parse_command("ls | xargs")
    assert isinstance(result, list)
    assert result[1].args == ["echo"] and result[1].open_ended


def test_bash_c_keeps_the_shell_as_a_wrapper() -> None:
    result = parse_command("sudo bash -c 'rm x'")
    assert isinstance(result, list)
    assert [[w.text for w in layer] for layer in result[0].layers()] == [
        ["sudo", "bash", "-c", "rm", "x"],
        ["bash", "-c", "rm", "x"],
        ["rm", "x"],
    ]


def test_redirections() -> None:
    result = parse_command("make 2>&1 >> build.log < in.txt 2>/dev/null")
    assert isinstance(result, list)
    (cmd,) = result
    assert cmd.args == ["make"]
    shown = [(r.op, r.fd, r.target.text if r.target else None) for r in cmd.redirects]
    assert shown == [
        (">&", 2, "1"),
        (">>", None, "build.log"),
        ("<", None, "in.txt"),
        (">", 2, "/dev/null"),
    ]
    assert [r.writes_file for r in cmd.redirects] == [False, True, False, False]
    assert [r.reads_file for r in cmd.redirects] == [False, False, True, False]


def test_redirection_after_a_group_is_its_own_command() -> None:
    result = parse_command("{ a; b; } > out")
    assert isinstance(result, list)
    assert result[-1] == SimpleCommand((), redirects=result[-1].redirects)
    assert result[-1].redirects[0].target is not None
    assert result[-1].redirects[0].target.text == "out"


def test_words_record_what_is_only_known_at_run_time() -> None:
    result = parse_command("cat $X ~/a ~bob/b {a,b} *.py 'lit*'")
    assert isinstance(result, list)
    words = result[0].argv[1:]
    assert [(w.dynamic, w.tilde, w.glob) for w in words] == [
        (True, False, False),
        (False, True, False),
        (True, False, False),
        (True, False, False),
        (False, False, True),
        (False, False, False),
    ]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("echo 'open", "unterminated single quote"),
        ('echo "open', "unterminated double quote"),
        ("echo `open", "unterminated backtick"),
        ("echo $(open", "unbalanced"),
        ("(a", "unbalanced"),
        ("a)", "unbalanced ')'"),
        ("eval ls", "eval"),
        ("env -S 'a b'", "env -S"),
        ("f() { a; }", "function definitions"),
        ("function f { a; }", "function definitions"),
        ("case x in y) a;; esac", "case"),
        ("(( x++ ))", "arithmetic"),
        ("echo $(( $(id) ))", "arithmetic"),
        ("echo ${X:-$(id)}", "${...}"),
        ("cat <<EOF\n$(id)\nEOF", "unquoted here-document"),
        ("cat <<EOF\nno end", "unterminated here-document"),
        ('bash -c "$X"', "only known at run time"),
        ("a | | b", "without a command"),
        ("if a; then b", "unbalanced"),
        ("done", "unbalanced"),
        ("echo x >", "no target"),
        ("echo \\", "trailing backslash"),
        ("echo " + "$(" * 40 + ")" * 40, "nested too deeply"),
    ],
)
def test_unparseable(source: str, reason: str) -> None:
    result = parse_command(source)
    assert isinstance(result, Unparseable)
    assert reason in result.reason
