"""MultiEdit: several Edit-style replacements in one file, all or none.

Edits apply in order, in memory, each to the result of the previous one; if any
fails the file is left untouched and the error names the failing edit. The file
is written once, atomically, keeping mode, BOM and line endings, then
auto-verified. Matching rules are Edit's (`edit.apply_edit`).
"""

from __future__ import annotations

from typing import Any

from bridle.core.errors import ToolError
from bridle.tools.base import Tool, ToolContext, ToolOutput
from bridle.tools.edit import apply_edit, edited_snippet, load_for_edit, model_text, write_edited
from bridle.tools.files import TextFile


class MultiEdit(Tool):
    name = "MultiEdit"
    description = (
        "Apply several edits to one file you have Read, in order, atomically: all "
        "apply or none. Each edit follows Edit's rules and sees the previous edits' result."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "file_path": {"type": "string"},
            "edits": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "old_string": {"type": "string"},
                        "new_string": {"type": "string"},
                        "replace_all": {"type": "boolean"},
                    },
                    "required": ["old_string", "new_string"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["file_path", "edits"],
        "additionalProperties": False,
    }

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        path = ctx.resolve(args["file_path"])
        shown = ctx.display(path)
        edits: list[dict[str, Any]] = args["edits"]
        if path.exists():
            doc = load_for_edit(ctx, path, shown)
        elif edits and edits[0]["old_string"] == "":
            doc = TextFile("")
        else:
            raise ToolError(f"{shown} does not exist. Use Write to create a file.")
        text, summary = apply_edits(doc, edits, shown)
        return write_edited(ctx, path, doc, text, summary)


def apply_edits(doc: TextFile, edits: list[dict[str, Any]], shown: str) -> tuple[str, str]:
    """`edits` applied in order to `doc`'s text, all or none: the new text and the
    summary for the model (the edited region). A failing edit names its number."""
    text = doc.text
    spans: list[tuple[int, int]] = []
    for i, e in enumerate(edits, 1):
        old, new = model_text(doc, e["old_string"]), model_text(doc, e["new_string"])
        try:
            text, first, last = apply_edit(text, old, new, bool(e.get("replace_all")), shown)
        except ToolError as err:
            raise ToolError(
                f"edit {i} of {len(edits)} failed, so no edits were applied: {err}"
            ) from err
        spans.append((first, last))
    first, last = min(s[0] for s in spans), max(s[1] for s in spans)
    return text, f"Applied {len(edits)} edits to {shown}:\n{edited_snippet(text, first, last)}"
