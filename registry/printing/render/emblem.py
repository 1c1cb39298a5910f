"""The joint mark's emblem: a ring around three peaks (Agung, Rinjani, Kelimutu: Bali, NTB,
NTT) above the sea, as PDF path operators. Black only, so thermal printers render it too."""

from __future__ import annotations

from registry.printing.render.pdf import num
from registry.printing.stocks import MM, Box

__all__ = ["emblem_ops", "emblem_square"]

_K = 0.5523  # cubic Bézier circle constant


def emblem_square(box: Box, label_h: float) -> tuple[float, float, float]:
    """(x, y, side) in label points, y up: the largest square centred in ``box`` (mm, from
    the label's top-left, y down, on a label ``label_h`` mm high), which the emblem fills."""
    side = min(box.w, box.h) * MM
    x0 = box.x * MM + (box.w * MM - side) / 2
    y0 = (label_h - box.y - box.h) * MM + (box.h * MM - side) / 2
    return x0, y0, side


def emblem_ops(box: Box, label_h: float) -> str:
    """Content stream operators that paint the emblem into ``box``."""
    x0, y0, side = emblem_square(box, label_h)

    def p(x: float, y: float) -> str:
        return f"{num(x0 + x * side)} {num(y0 + y * side)}"

    def circle(cx: float, cy: float, r: float) -> str:
        k = _K * r
        return (
            f"{p(cx + r, cy)} m "
            f"{p(cx + r, cy + k)} {p(cx + k, cy + r)} {p(cx, cy + r)} c "
            f"{p(cx - k, cy + r)} {p(cx - r, cy + k)} {p(cx - r, cy)} c "
            f"{p(cx - r, cy - k)} {p(cx - k, cy - r)} {p(cx, cy - r)} c "
            f"{p(cx + k, cy - r)} {p(cx + r, cy - k)} {p(cx + r, cy)} c h "
        )

    ring = circle(0.5, 0.5, 0.5) + circle(0.5, 0.5, 0.43)
    peaks = (
        f"{p(0.13, 0.40)} m {p(0.30, 0.64)} l {p(0.40, 0.52)} l {p(0.52, 0.76)} l "
        f"{p(0.64, 0.55)} l {p(0.72, 0.64)} l {p(0.87, 0.40)} l h "
    )
    wave = (
        f"{p(0.16, 0.33)} m {p(0.27, 0.38)} {p(0.38, 0.28)} {p(0.5, 0.33)} c "
        f"{p(0.62, 0.38)} {p(0.73, 0.28)} {p(0.84, 0.33)} c "
        f"{p(0.84, 0.27)} l {p(0.73, 0.22)} {p(0.62, 0.32)} {p(0.5, 0.27)} c "
        f"{p(0.38, 0.22)} {p(0.27, 0.32)} {p(0.16, 0.27)} c h "
    )
    return f"0 g {ring}f* {peaks}f {wave}f\n"
