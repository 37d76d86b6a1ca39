"""Offline, deterministic drawing helpers: fonts, playing cards and card backs.

Everything is drawn with PIL from shapes and text, so no image files ship with the package
and the same Pillow version always produces the same bytes. Fonts come from files already
on the machine (matplotlib's bundled DejaVu, then the system's DejaVu); matplotlib itself is
never imported, only located, so envs stay light.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "SUITS",
    "card_back_image",
    "card_image",
    "draw_text_centered",
    "font_path",
    "load_font",
    "rank_label",
    "wrap_tokens",
]

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

SUITS = ("C", "D", "H", "S")
_RANK_LABELS = {1: "A", 11: "J", 12: "Q", 13: "K"}
_RED = (196, 20, 32)
_BLACK = (20, 20, 20)
# Cards are drawn at this multiple of their final size and downsampled, which smooths the
# suit shapes (PIL's primitives are not anti-aliased) and stays deterministic.
_SUPERSAMPLE = 3
_CREAM = (250, 250, 246, 255)
_EDGE = (90, 90, 90, 255)
_SYSTEM_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")


@functools.cache
def font_path(bold: bool = False) -> str | None:
    """Path of DejaVuSans(-Bold).ttf on this machine, or None if there is none.

    Looks in matplotlib's mpl-data first (found with ``importlib.util.find_spec``, which
    does not import matplotlib), then in the system font folders.
    """
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    spec = importlib.util.find_spec("matplotlib")
    for root in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(root) / "mpl-data" / "fonts" / "ttf" / name
        if candidate.is_file():
            return str(candidate)
    for folder in _SYSTEM_FONT_DIRS:
        if Path(folder).is_dir():
            hits = sorted(Path(folder).rglob(name))
            if hits:
                return str(hits[0])
    return None


@functools.cache
def load_font(size: int, bold: bool = False) -> Font:
    """A font of ``size`` pixels: DejaVu Sans if found, else PIL's built-in default font."""
    path = font_path(bold)
    if path is not None:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def rank_label(rank: int) -> str:
    """The printed rank of a card: 1 -> 'A', 11/12/13 -> 'J'/'Q'/'K', else the number."""
    if not 1 <= rank <= 13:
        raise ValueError(f"card rank must be in 1..13, got {rank}")
    return _RANK_LABELS.get(rank, str(rank))


def draw_text_centered(
    draw: ImageDraw.ImageDraw, centre: tuple[float, float], text: str, font: Font, fill
) -> None:
    """Draw ``text`` with the centre of its ink box at ``centre`` (works for any font)."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = centre[0] - (left + right) / 2
    y = centre[1] - (top + bottom) / 2
    draw.text((round(x), round(y)), text, font=font, fill=fill)


def wrap_tokens(tokens: list[str], font: Font, max_width: int, sep: str = " ") -> list[str]:
    """Greedily join ``tokens`` with ``sep`` into lines no wider than ``max_width`` pixels.

    A single token wider than the limit gets a line of its own rather than being split.
    """
    lines: list[str] = []
    current = ""
    for token in tokens:
        candidate = token if not current else current + sep + token
        if current and font.getlength(candidate) > max_width:
            lines.append(current)
            current = token
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _suit_shape(draw: ImageDraw.ImageDraw, suit: str, cx: float, cy: float, s: float) -> None:
    """Draw a suit symbol of half-height ``s`` centred on (cx, cy)."""
    colour = _RED if suit in "HD" else _BLACK

    def disc(x: float, y: float, r: float) -> None:
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)

    if suit == "D":
        draw.polygon(
            [(cx, cy - s), (cx + 0.72 * s, cy), (cx, cy + s), (cx - 0.72 * s, cy)], fill=colour
        )
    elif suit == "H":
        disc(cx - 0.48 * s, cy - 0.35 * s, 0.52 * s)
        disc(cx + 0.48 * s, cy - 0.35 * s, 0.52 * s)
        draw.polygon(
            [(cx - 0.98 * s, cy - 0.2 * s), (cx + 0.98 * s, cy - 0.2 * s), (cx, cy + s)],
            fill=colour,
        )
    elif suit == "S":
        disc(cx - 0.48 * s, cy + 0.2 * s, 0.5 * s)
        disc(cx + 0.48 * s, cy + 0.2 * s, 0.5 * s)
        draw.polygon(
            [(cx - 0.96 * s, cy + 0.1 * s), (cx + 0.96 * s, cy + 0.1 * s), (cx, cy - s)],
            fill=colour,
        )
        draw.polygon(
            [(cx, cy + 0.2 * s), (cx - 0.35 * s, cy + s), (cx + 0.35 * s, cy + s)], fill=colour
        )
    elif suit == "C":
        disc(cx, cy - 0.5 * s, 0.42 * s)
        disc(cx - 0.48 * s, cy + 0.12 * s, 0.42 * s)
        disc(cx + 0.48 * s, cy + 0.12 * s, 0.42 * s)
        draw.polygon(
            [(cx, cy - 0.1 * s), (cx - 0.35 * s, cy + s), (cx + 0.35 * s, cy + s)], fill=colour
        )
    else:
        raise ValueError(f"suit must be one of {SUITS}, got {suit!r}")


def _blank_card(width: int, height: int) -> Image.Image:
    """A supersampled RGBA card face: cream rounded rectangle, transparent outside it."""
    big = Image.new("RGBA", (width * _SUPERSAMPLE, height * _SUPERSAMPLE), (0, 0, 0, 0))
    ImageDraw.Draw(big).rounded_rectangle(
        [0, 0, big.width - 1, big.height - 1],
        radius=max(2, min(big.size) // 12),
        fill=_CREAM,
        outline=_EDGE,
        width=2 * _SUPERSAMPLE,
    )
    return big


@functools.cache
def card_image(rank: int, suit: str, width: int, height: int) -> Image.Image:
    """A face-up card: rank and suit in the top-left corner, big rank and suit in the middle.

    Returns RGBA (transparent outside the rounded corners): paste it with itself as the
    mask. Cached per (rank, suit, size); callers must paste it, never draw on it.
    """
    label = rank_label(rank)
    big = _blank_card(width, height)
    draw = ImageDraw.Draw(big)
    w, h = big.size
    colour = _RED if suit in "HD" else _BLACK
    # Corner index: readable even where cards overlap in a fanned hand.
    corner = load_font(max(8, int(w * 0.2)), bold=True)
    draw_text_centered(draw, (w * 0.16, h * 0.1), label, corner, colour)
    _suit_shape(draw, suit, w * 0.16, h * 0.22, w * 0.07)
    # Centre: large rank over a large suit, the part a model most needs to read.
    centre_font = load_font(max(10, int(w * 0.38)), bold=True)
    draw_text_centered(draw, (w * 0.55, h * 0.42), label, centre_font, colour)
    _suit_shape(draw, suit, w * 0.55, h * 0.72, w * 0.15)
    return big.resize((width, height), Image.Resampling.LANCZOS)


@functools.cache
def card_back_image(width: int, height: int) -> Image.Image:
    """A face-down card (RGBA, like :func:`card_image`): a blue lattice panel in a cream rim."""
    big = _blank_card(width, height)
    w, h = big.size
    inset = max(3, w // 12)
    panel = Image.new("RGB", big.size, (30, 64, 150))
    draw = ImageDraw.Draw(panel)
    step = max(6, w // 6)
    for offset in range(-h, w + h, step):
        draw.line([(offset, 0), (offset + h, h)], fill=(120, 160, 230), width=_SUPERSAMPLE)
        draw.line([(offset, h), (offset + h, 0)], fill=(120, 160, 230), width=_SUPERSAMPLE)
    # The panel shows only inside an inset rounded rectangle, leaving the rim cream.
    mask = Image.new("L", big.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle(
        [inset, inset, w - 1 - inset, h - 1 - inset], radius=inset, fill=255
    )
    big.paste(panel, (0, 0), mask)
    return big.resize((width, height), Image.Resampling.LANCZOS)
