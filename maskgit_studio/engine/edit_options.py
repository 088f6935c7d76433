"""The settings of how an edit sees the picture and is put back (one frozen record)."""

from __future__ import annotations

from dataclasses import dataclass

from .editing import PASS_OVERLAP
from .editing_composite import ALPHA_BLEND, Blend

REFINE_ORDERS = ("confidence", "random")


@dataclass(frozen=True)
class EditOptions:
    """Window and composite settings of inpaint, outpaint, box edits, refine and remove.

    Attributes:
        context: cells of the picture the window holds around the region on every side, when
            the working scale is picked for the edit (None = the model's default,
            ``editing.default_context``). Ignored when the caller sets the scale.
        blend: the composite (seamless by default; ``ALPHA_BLEND`` is the official feather).
        pixel_mask: True composites only the pixels the mask selects (feathered), keeping the
            original pixels of the regenerated cells around them; False composites whole cells.
        pass_overlap: cells of an earlier pass that a later pass of the same edit generates
            again and cross-fades over (outpainting and other multi-pass edits).
    """

    context: int | None = None
    blend: Blend = Blend()
    pixel_mask: bool = True
    pass_overlap: int = PASS_OVERLAP

    def __post_init__(self) -> None:
        if self.context is not None and self.context < 0:
            raise ValueError(f"context must be >= 0 cells, got {self.context}")
        if self.pass_overlap < 0:
            raise ValueError(f"pass overlap must be >= 0 cells, got {self.pass_overlap}")

    @classmethod
    def legacy(cls) -> EditOptions:
        """The studio's composite before seamless edits: whole cells, alpha feather."""
        return cls(blend=ALPHA_BLEND, pixel_mask=False, pass_overlap=0)

    def to_dict(self) -> dict:
        b = self.blend
        return {
            "context": self.context,
            "blend": b.mode,
            "colour_match": b.colour_match,
            "detail_match": b.detail_match,
            "pixel_mask": self.pixel_mask,
            "pass_overlap": self.pass_overlap,
        }


__all__ = ["REFINE_ORDERS", "EditOptions"]
