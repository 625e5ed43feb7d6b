"""Write a synthetic corpus of coding sessions in the four tools' real on-disk formats.

Sessions are mixed across Claude Code (`.claude/projects/<slug>/<uuid>.jsonl`,
with the duplicated `toolUseResult` payloads and snapshot lines the real tool
writes), Codex (`.codex/sessions/Y/M/D/rollout-*.jsonl`), Gemini CLI
(`.gemini/tmp/<slug>/chats/session-*.jsonl`) and Copilot CLI
(`.copilot/session-state/<uuid>/events.jsonl` + `workspace.yaml`). Text is drawn
from a Zipf-distributed vocabulary, tool output looks like code and logs, and
each session carries one unique marker word (`zq<n>marker`) so a benchmark can
search for something that exists exactly once. File mtimes are set to the
session's last timestamp, as on a real machine. Deterministic for a given seed.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from pathlib import Path

TOOL_MIX = (("claude", 0.4), ("codex", 0.25), ("gemini", 0.2), ("copilot", 0.15))
START = 1_700_000_000.0  # November 2023
SPAN = 700 * 86400.0

_SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bo",
    "bu",
    "ca",
    "co",
    "cu",
    "da",
    "de",
    "di",
    "do",
    "fa",
    "fe",
    "fi",
    "ga",
    "go",
    "ha",
    "he",
    "hi",
    "ka",
    "ke",
    "ki",
    "ko",
    "la",
    "le",
    "li",
    "lo",
    "lu",
    "ma",
    "me",
    "mi",
    "mo",
    "na",
    "ne",
    "ni",
    "no",
    "pa",
    "pe",
    "pi",
    "po",
    "ra",
    "re",
    "ri",
    "ro",
    "sa",
    "se",
    "si",
    "so",
    "ta",
    "te",
    "ti",
    "to",
    "va",
    "ve",
    "vi",
    "wa",
    "xe",
    "yo",
    "za",
    "ze",
    "zo",
]
_CODE = [
    "def {w}({v}):\n    return {v}.{w2}()\n",
    "    if {v} is None:\n        raise ValueError('{w} {w2} missing')\n",
    "import {w}\nfrom {w2} import {v}\n",
    "class {W}:\n    {v}: int = 0\n",
    "ERROR {w}.{w2}: connection refused on port 54{n}\n",
    "test_{w}_{w2} PASSED [{n}%]\n",
    "Traceback (most recent call last):\n  File \"src/{w}.py\", line {n}, in {w2}\nKeyError: '{v}'\n",
]


class Words:
    def __init__(self, rng: random.Random, size: int = 30000):
        self.rng = rng
        # sorted(): a set's order changes with PYTHONHASHSEED, and the benchmark
        # re-derives the vocabulary to pick its queries.
        unique = {
            "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4)))
            for _ in range(size * 2)
        }
        self.words = sorted(unique)[:size]
        rng.shuffle(self.words)
        self.weights = [1.0 / (i + 1) for i in range(len(self.words))]
        self.pool = rng.choices(self.words, self.weights, k=1_000_000)
        self.at = 0

    def take(self, n: int) -> list[str]:
        if self.at + n > len(self.pool):
            self.at = self.rng.randrange(0, 1000)
        out = self.pool[self.at : self.at + n]
        self.at += n
        return out

    def sentence(self, n: int) -> str:
        return " ".join(self.take(n)).capitalize() + "."

    def code(self, lines: int) -> str:
        out = []
        for _ in range(lines):
            w, w2, v = self.take(3)
            out.append(
                self.rng.choice(_CODE).format(
                    w=w, w2=w2, v=v, W=w.capitalize(), n=self.rng.randint(10, 99)
                )
            )
        return "".join(out)


def _iso(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _dump(rec: object) -> str:
    return json.dumps(rec, separators=(",", ":"))


class Corpus:
    def __init__(self, home: Path, seed: int = 7):
        self.home = home
        self.rng = random.Random(seed)
        self.words = Words(self.rng)
        self.projects = [f"/home/dev/src/{w}" for w in self.words.words[100:180]]

    def turns(self, size: int, marker: str) -> list[tuple[str, str, str, str]]:
        """(prompt, command, output, answer) turns adding up to about `size` bytes."""
        out = []
        total = 0
        while total < size or not out:
            prompt = self.words.sentence(self.rng.randint(6, 30))
            if not out:
                prompt += f" ({marker})"
            cmd = (
                self.rng.choice(
                    ["pytest -q tests/", "rg -n ", "cat src/", "git diff ", "npm test -- "]
                )
                + self.words.take(1)[0]
            )
            output = self.words.code(self.rng.randint(5, 120))
            answer = self.words.sentence(self.rng.randint(10, 80))
            out.append((prompt, cmd, output, answer))
            total += len(prompt) + len(cmd) + 2 * len(output) + len(answer) + 600
        return out

    def write(self, sessions: int, total_bytes: int) -> int:
        per = total_bytes // max(1, sessions)
        tools = [t for t, _ in TOOL_MIX]
        weights = [w for _, w in TOOL_MIX]
        written = 0
        for n in range(sessions):
            tool = self.rng.choices(tools, weights)[0]
            size = int(per * self.rng.lognormvariate(0, 0.8) / 1.37)
            sid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            cwd = self.rng.choice(self.projects)
            start = START + self.rng.random() * SPAN
            path, lines = getattr(self, "_" + tool)(
                sid, cwd, start, self.turns(size, f"zq{n}marker")
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            data = "\n".join(lines) + "\n"
            path.write_text(data)
            written += len(data)
            end = start + 60 * len(lines)
            os.utime(path, (end, end))
        return written

    def _claude(
        self, sid: str, cwd: str, t: float, turns: list[tuple[str, str, str, str]]
    ) -> tuple[Path, list[str]]:
        slug = "".join(c if c.isalnum() else "-" for c in cwd)
        base = {
            "parentUuid": None,
            "isSidechain": False,
            "userType": "external",
            "cwd": cwd,
            "sessionId": sid,
            "version": "2.1.197",
            "gitBranch": "main",
        }
        lines = [
            _dump(
                {
                    "type": "file-history-snapshot",
                    "messageId": sid,
                    "snapshot": {"trackedFileBackups": {}},
                    "isSnapshotUpdate": False,
                }
            )
        ]
        for i, (prompt, cmd, output, answer) in enumerate(turns):
            t += 30
            lines.append(
                _dump(
                    {
                        **base,
                        "type": "user",
                        "message": {"role": "user", "content": prompt},
                        "uuid": f"u{i}",
                        "timestamp": _iso(t),
                    }
                )
            )
            lines.append(
                _dump(
                    {
                        **base,
                        "type": "assistant",
                        "message": {
                            "role": "assistant",
                            "model": "claude-sonnet-4-5",
                            "content": [
                                {
                                    "type": "tool_use",
                                    "id": f"t{i}",
                                    "name": "Bash",
                                    "input": {"command": cmd},
                                }
                            ],
                        },
                        "uuid": f"a{i}",
                        "timestamp": _iso(t + 5),
                    }
                )
            )
            lines.append(
                _dump(
                    {
                        **base,
                        "type": "user",
                        "message": {
                            "role": "user",
                            "content": [
                                {"type": "tool_result", "tool_use_id": f"t{i}", "content": output}
                            ],
                        },
                        "toolUseResult": {"stdout": output, "stderr": ""},
                        "uuid": f"r{i}",
                        "timestamp": _iso(t + 9),
                    }
                )
            )
            lines.append(
                _dump(
                    {
                        **base,
                        "type": "assistant",
                        "message": {
                            "role": "assistant",
                            "model": "claude-sonnet-4-5",
                            "content": [{"type": "text", "text": answer}],
                        },
                        "uuid": f"b{i}",
                        "timestamp": _iso(t + 20),
                    }
                )
            )
        return self.home / ".claude" / "projects" / slug / f"{sid}.jsonl", lines

    def _codex(
        self, sid: str, cwd: str, t: float, turns: list[tuple[str, str, str, str]]
    ) -> tuple[Path, list[str]]:
        lines = [
            _dump(
                {
                    "timestamp": _iso(t),
                    "type": "session_meta",
                    "payload": {
                        "id": sid,
                        "timestamp": _iso(t),
                        "cwd": cwd,
                        "originator": "codex_cli_rs",
                        "cli_version": "0.169.0",
                        "git": {"branch": "main"},
                    },
                }
            )
        ]
        lines.append(
            _dump(
                {
                    "timestamp": _iso(t),
                    "type": "response_item",
                    "payload": {
                        "type": "message",
                        "role": "user",
                        "content": [
                            {
                                "type": "input_text",
                                "text": f"<environment_context>\n  <cwd>{cwd}</cwd>\n</environment_context>",
                            }
                        ],
                    },
                }
            )
        )
        for i, (prompt, cmd, output, answer) in enumerate(turns):
            t += 30
            lines.append(
                _dump(
                    {
                        "timestamp": _iso(t),
                        "type": "response_item",
                        "payload": {
                            "type": "message",
                            "role": "user",
                            "content": [{"type": "input_text", "text": prompt}],
                        },
                    }
                )
            )
            lines.append(
                _dump(
                    {
                        "timestamp": _iso(t),
                        "type": "event_msg",
                        "payload": {"type": "user_message", "message": prompt, "kind": "plain"},
                    }
                )
            )
            lines.append(
                _dump(
                    {
                        "timestamp": _iso(t),
                        "type": "turn_context",
                        "payload": {"cwd": cwd, "model": "gpt-5-codex"},
                    }
                )
            )
            lines.append(
                _dump(
                    {
                        "timestamp": _iso(t + 5),
                        "type": "response_item",
                        "payload": {
                            "type": "function_call",
                            "name": "exec_command",
                            "arguments": json.dumps({"cmd": cmd, "workdir": cwd}),
                            "call_id": f"c{i}",
                        },
                    }
                )
            )
            lines.append(
                _dump(
                    {
                        "timestamp": _iso(t + 9),
                        "type": "response_item",
                        "payload": {
                            "type": "function_call_output",
                            "call_id": f"c{i}",
                            "output": output,
                        },
                    }
                )
            )
            lines.append(
                _dump(
                    {
                        "timestamp": _iso(t + 9),
                        "type": "event_msg",
                        "payload": {
                            "type": "exec_command_end",
                            "call_id": f"c{i}",
                            "aggregated_output": output,
                            "exit_code": 0,
                        },
                    }
                )
            )
            lines.append(
                _dump(
                    {
                        "timestamp": _iso(t + 20),
                        "type": "response_item",
                        "payload": {
                            "type": "message",
                            "role": "assistant",
                            "content": [{"type": "output_text", "text": answer}],
                        },
                    }
                )
            )
        day = _iso(t)[:10].replace("-", "/")
        stamp = _iso(t)[:19].replace(":", "-")
        return self.home / ".codex" / "sessions" / day / f"rollout-{stamp}-{sid}.jsonl", lines

    def _gemini(
        self, sid: str, cwd: str, t: float, turns: list[tuple[str, str, str, str]]
    ) -> tuple[Path, list[str]]:
        slug = cwd.rsplit("/", 1)[-1]
        project = self.home / ".gemini" / "tmp" / slug
        project.mkdir(parents=True, exist_ok=True)
        (project / ".project_root").write_text(cwd)
        lines = [
            _dump(
                {
                    "sessionId": sid,
                    "projectHash": slug,
                    "startTime": _iso(t),
                    "lastUpdated": _iso(t),
                    "kind": "main",
                }
            )
        ]
        for i, (prompt, cmd, output, answer) in enumerate(turns):
            t += 30
            lines.append(
                _dump(
                    {
                        "id": f"u{i}",
                        "timestamp": _iso(t),
                        "type": "user",
                        "content": [{"text": prompt}],
                    }
                )
            )
            call = {
                "id": f"run-{i}",
                "name": "run_shell_command",
                "args": {"command": cmd},
                "status": "success",
                "timestamp": _iso(t + 5),
            }
            lines.append(
                _dump(
                    {
                        "id": f"g{i}",
                        "timestamp": _iso(t + 5),
                        "type": "gemini",
                        "content": "",
                        "toolCalls": [call],
                        "model": "gemini-2.5-pro",
                    }
                )
            )
            lines.append(
                _dump(
                    {
                        "id": f"g{i}",
                        "timestamp": _iso(t + 5),
                        "type": "gemini",
                        "content": "",
                        "toolCalls": [
                            {
                                **call,
                                "result": [
                                    {
                                        "functionResponse": {
                                            "id": f"run-{i}",
                                            "name": "run_shell_command",
                                            "response": {"output": output},
                                        }
                                    }
                                ],
                            }
                        ],
                        "model": "gemini-2.5-pro",
                    }
                )
            )
            lines.append(
                _dump(
                    {
                        "id": f"h{i}",
                        "timestamp": _iso(t + 20),
                        "type": "gemini",
                        "content": answer,
                        "model": "gemini-2.5-pro",
                    }
                )
            )
            lines.append(_dump({"$set": {"lastUpdated": _iso(t + 20)}}))
        return (
            project / "chats" / f"session-{_iso(t)[:16].replace(':', '-')}-{sid[:8]}.jsonl",
            lines,
        )

    def _copilot(
        self, sid: str, cwd: str, t: float, turns: list[tuple[str, str, str, str]]
    ) -> tuple[Path, list[str]]:
        folder = self.home / ".copilot" / "session-state" / sid
        folder.mkdir(parents=True, exist_ok=True)
        lines = [
            _dump(
                {
                    "type": "session.start",
                    "data": {
                        "sessionId": sid,
                        "version": 1,
                        "producer": "copilot-agent",
                        "copilotVersion": "1.0.102",
                        "startTime": _iso(t),
                        "context": {"cwd": cwd, "branch": "main"},
                    },
                    "id": "e0",
                    "timestamp": _iso(t),
                    "parentId": None,
                }
            )
        ]
        for i, (prompt, cmd, output, answer) in enumerate(turns):
            t += 30
            lines.append(
                _dump(
                    {
                        "type": "user.message",
                        "data": {"content": prompt, "attachments": []},
                        "id": f"u{i}",
                        "timestamp": _iso(t),
                        "parentId": None,
                    }
                )
            )
            lines.append(
                _dump(
                    {
                        "type": "assistant.message",
                        "data": {
                            "messageId": f"m{i}",
                            "content": "",
                            "toolRequests": [
                                {
                                    "toolCallId": f"c{i}",
                                    "name": "bash",
                                    "arguments": {"command": cmd},
                                }
                            ],
                        },
                        "id": f"a{i}",
                        "timestamp": _iso(t + 5),
                        "parentId": None,
                    }
                )
            )
            lines.append(
                _dump(
                    {
                        "type": "tool.execution_complete",
                        "data": {
                            "toolCallId": f"c{i}",
                            "success": True,
                            "result": {"content": output, "detailedContent": output},
                        },
                        "id": f"r{i}",
                        "timestamp": _iso(t + 9),
                        "parentId": None,
                    }
                )
            )
            lines.append(
                _dump(
                    {
                        "type": "assistant.message",
                        "data": {"messageId": f"n{i}", "content": answer, "toolRequests": []},
                        "id": f"b{i}",
                        "timestamp": _iso(t + 20),
                        "parentId": None,
                    }
                )
            )
        (folder / "workspace.yaml").write_text(
            f"id: {sid}\ncwd: {cwd}\nbranch: main\ncreated_at: {_iso(t)}\n"
        )
        return folder / "events.jsonl", lines
