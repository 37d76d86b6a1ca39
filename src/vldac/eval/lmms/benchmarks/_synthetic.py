"""Synthetic media and parquet writing for the general benchmarks' fixtures.

Fixtures never hold real benchmark media: every image is a plain background with one coloured
shape, drawn here. Parquet files are written through ``datasets`` with explicit features, so an
``Image()`` column is stored the way the Hugging Face hub stores it (a ``{bytes, path}`` struct
plus the features in the schema metadata) and ``load_dataset("parquet", ...)`` decodes it back
to ``PIL.Image`` exactly as it does for the real files.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 170, 60),
    "blue": (40, 60, 220),
    "yellow": (230, 210, 30),
    "white": (250, 250, 250),
    "black": (10, 10, 10),
}


def shape_image(colour: str = "red", shape: str = "square", size: tuple[int, int] = (64, 48),
                background: str = "white"):
    """A ``size`` RGB image with one ``colour`` ``shape`` (square or circle) in the middle."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, COLOURS[background])
    width, height = size
    box = (width // 4, height // 4, 3 * width // 4, 3 * height // 4)
    draw = ImageDraw.Draw(image)
    if shape == "circle":
        draw.ellipse(box, fill=COLOURS[colour])
    else:
        draw.rectangle(box, fill=COLOURS[colour])
    return image


def image_base64(image) -> str:
    """``image`` as a base64 PNG string (the encoding of MME-RealWorld's ``bytes`` column)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def write_parquet(rows: list[dict], features: dict, path: Path) -> Path:
    """Write ``rows`` (dicts with exactly the keys of ``features``) to the parquet file ``path``.

    ``features`` maps column names to ``datasets`` feature types; the file carries them in its
    schema metadata, as the hub's files do.
    """
    import datasets

    missing = [sorted(set(features) ^ set(row)) for row in rows if set(row) != set(features)]
    if missing:
        raise ValueError(f"Fixture rows and features disagree on the columns {missing[0]}.")
    columns = {name: [row[name] for row in rows] for name in features}
    dataset = datasets.Dataset.from_dict(columns, features=datasets.Features(features))
    path.parent.mkdir(parents=True, exist_ok=True)
    dataset.to_parquet(str(path))
    return path


def write_shape_video(path: Path, colour: str = "red", num_frames: int = 8,
                      size: tuple[int, int] = (64, 48), fps: int = 8) -> Path:
    """A tiny H.264 mp4: a ``colour`` square moving left to right over a white background."""
    import av
    import numpy as np

    width, height = size
    side = height // 3
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(num_frames):
            frame = np.full((height, width, 3), COLOURS["white"], dtype=np.uint8)
            left = (width - side) * index // max(num_frames - 1, 1)
            frame[side: 2 * side, left: left + side] = COLOURS[colour]
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
