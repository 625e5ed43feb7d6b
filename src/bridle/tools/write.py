"""Write: create a file, or replace one the session has read.

Parents are created. An existing file is only overwritten when this session read
it and it has not changed on disk since, so the model never clobbers content it
has not seen; the write is atomic and keeps the file's mode. The content is
written exactly as given (no line-ending conversion). Changed files are
auto-verified (see `verify`). Permission to write is the engine's concern.
"""

from __future__ import annotations

from typing import Any

from bridle.core.errors import ToolError
from bridle.store.atomic import atomic_write
from bridle.tools.base import Tool, ToolContext, ToolOutput
from bridle.tools.files import record_read, require_fresh
from bridle.tools.verify import append_verify


class Write(Tool):
    name = "Write"
    description = (
        "Create or overwrite a file with the given content. An existing file must be "
        "Read first. Prefer Edit for changes to existing files."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "file_path": {"type": "string"},
            "content": {"type": "string"},
        },
        "required": ["file_path", "content"],
        "additionalProperties": False,
    }

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        path = ctx.resolve(args["file_path"])
        shown = ctx.display(path)
        content: str = args["content"]
        if path.is_dir():
            raise ToolError(f"{shown} is a directory; give a file path.")
        existed = path.exists()
        if existed:
            require_fresh(ctx, path, shown)
        try:
            atomic_write(path, content.encode("utf-8", "surrogatepass"))
        except OSError as e:
            raise ToolError(f"cannot write {shown}: {e.strerror or e}") from e
        record_read(ctx, path)
        lines = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
        verb = "Overwrote" if existed else "Created"
        text = append_verify(f"{verb} {shown} ({lines} lines).", [str(path)], ctx)
        return ToolOutput.text(text, changed_files=[str(path)])
