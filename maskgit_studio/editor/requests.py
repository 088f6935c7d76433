"""What Ctrl+Enter does, decided from the document alone: outpaint, box edit, inpaint or generate."""

from __future__ import annotations

from dataclasses import dataclass

from .document import Document

KINDS = ("generate", "inpaint", "outpaint", "edit_box")


@dataclass(frozen=True)
class EditRequest:
    """The operation the next run performs.

    Attributes:
        kind: one of ``KINDS``.
        box_index: the box to edit (kind "edit_box").
        summary: a short sentence for the status bar.
    """

    kind: str
    box_index: int | None = None
    summary: str = ""


def plan_request(doc: Document, selected_box: int | None = None) -> EditRequest:
    """Pending canvas growth wins, then the selected box, then the mask, else generate."""
    growth = doc.growth
    if growth.any:
        sides = [
            f"{n} {name}"
            for n, name in zip(
                (growth.left, growth.top, growth.right, growth.bottom),
                ("left", "top", "right", "bottom"),
                strict=True,
            )
            if n
        ]
        return EditRequest(
            "outpaint", None, f"Outpaint: grow the canvas by {', '.join(sides)} cells"
        )
    if selected_box is not None and 0 <= selected_box < len(doc.boxes):
        return EditRequest("edit_box", selected_box, f"Box edit: regenerate box {selected_box + 1}")
    count = int(doc.selection_cells().sum())
    if count:
        what = f"{count} masked cells"
        if doc.pixels is not None:
            what = f"the painted pixels (in {count} cells)"
        return EditRequest("inpaint", None, f"Inpaint: regenerate {what}")
    if doc.is_blank:
        return EditRequest("generate", None, "Generate an image of the chosen class")
    return EditRequest("generate", None, "Generate a new image (replaces the canvas)")
