"""A picture played as Chromium's camera: ``--use-file-for-fake-video-capture`` reads a Y4M file and loops it."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

FRAME = (640, 480)


def y4m_of(png: bytes, path: Path, frames: int = 10, fps: int = 10) -> Path:
    """``png`` centred on a white 640×480 frame (as a phone held up to a tablet's camera), written as
    ``frames`` identical 4:2:0 frames (full-range YCbCr, C420jpeg: what Pillow's JPEG conversion gives)."""
    picture = Image.open(io.BytesIO(png)).convert("RGB")
    side = min(FRAME) - 40
    picture.thumbnail((side, side), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", FRAME, "white")
    canvas.paste(picture, ((FRAME[0] - picture.width) // 2, (FRAME[1] - picture.height) // 2))
    y, cb, cr = canvas.convert("YCbCr").split()
    half = (FRAME[0] // 2, FRAME[1] // 2)
    frame = b"FRAME\n" + y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    header = f"YUV4MPEG2 W{FRAME[0]} H{FRAME[1]} F{fps}:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * frames)
    return path


def camera_args(video: Path) -> list[str]:
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
