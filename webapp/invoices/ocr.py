"""Read the text of an invoice photo with RapidOCR (PP-OCRv4 models shipped in the wheel)."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from importlib.metadata import version

from PIL import Image, ImageOps, UnidentifiedImageError

# Longest side of the image the recogniser crops lines from: a phone photo downscaled in the
# browser is about 2000 px; larger inputs only cost time.
MAX_SIDE = 2000
# Longest side the text detector sees. Detection is most of the time and scales with pixels,
# while the recogniser resizes each line crop to 48 px high anyway, so lines are found on a
# smaller copy and cut from the full image (measured in docs/invoices.md).
DETECT_SIDE = 1280
# A page is turned when most lines say so (sideways boxes, or the classifier reading them
# upside down); a stray vertical logo does not turn it.
TURN_SHARE = 0.6
MIN_SCORE = 0.5
# One onnxruntime thread per engine: measured on 2 shared cores, the default (one per core,
# spinning while idle) took twice the CPU and more wall time than one thread; more photos at
# once are read by more media workers instead.
ENGINE_THREADS = 1

_engine = None
_engine_pid: int | None = None


class UnreadableImage(ValueError):
    """The bytes are not an image Pillow can decode."""


@dataclass(frozen=True)
class TextLine:
    """One line of text: its words, its box (four x, y corners on the upright page), confidence."""

    text: str
    box: tuple[tuple[int, int], ...]
    confidence: float

    def as_dict(self) -> dict:
        return {"text": self.text, "box": [list(p) for p in self.box],
                "confidence": round(self.confidence, 4)}


def engine_name() -> str:
    """Name and version of the OCR engine, recorded with every result."""
    return f"rapidocr-onnxruntime {version('rapidocr-onnxruntime')}"


def preload_modules() -> None:
    """Import the OCR stack (numpy, OpenCV, onnxruntime) without creating any inference session.

    Safe before fork: importing starts no onnxruntime thread pool, and each forked work horse
    then builds its sessions in ~0.1 s instead of importing for ~0.25 s first.
    """
    import rapidocr_onnxruntime  # noqa: F401


class OcrUnavailable(RuntimeError):
    """onnxruntime was started before this process was forked: OCR would hang here."""


def get_engine():
    """The process's RapidOCR engine, built on first use; never one inherited through fork."""
    global _engine, _engine_pid
    if _engine is not None and _engine_pid != os.getpid():
        # Measured: a child forked after its parent ran an onnxruntime session blocks forever
        # in a futex when it builds its own (the runtime's process-wide state, thread pools
        # included, does not survive fork). Fail the job instead of hanging to its timeout.
        raise OcrUnavailable("onnxruntime was started before fork; run OCR in a process "
                             "whose parent never built an engine")
    if _engine is None:
        from rapidocr_onnxruntime import RapidOCR

        _engine = RapidOCR(print_verbose=False, intra_op_num_threads=ENGINE_THREADS,
                           inter_op_num_threads=ENGINE_THREADS)
        _engine_pid = os.getpid()
    return _engine


def load_image(data: bytes):
    """Decode image bytes upright (EXIF orientation applied), RGB, long side <= MAX_SIDE."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced scale
            image = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise UnreadableImage(f"not a readable image: {exc}") from exc
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return image


def read_text(data: bytes) -> list[TextLine]:
    """OCR image bytes: text lines, top to bottom, on the page turned upright."""
    import numpy as np

    bgr = np.ascontiguousarray(np.asarray(load_image(data))[:, :, ::-1])
    engine = get_engine()
    for _attempt in range(2):
        boxes = _detect(engine, bgr)
        if not boxes:
            return []
        crops = engine.get_crop_img_list(bgr, boxes)
        crops, classes, _ = engine.text_cls(crops)
        turn = _page_turn(boxes, classes)
        if turn == 0:
            break
        # Turn the whole page and find the lines again, so boxes follow the printed layout.
        bgr = np.ascontiguousarray(np.rot90(bgr, turn // 90))
    texts, _ = engine.text_rec(crops)
    lines = [
        TextLine(text, tuple((int(x), int(y)) for x, y in box), float(score))
        for box, (text, score) in zip(boxes, texts, strict=True)
        if text.strip() and float(score) >= MIN_SCORE
    ]
    return lines


def _detect(engine, bgr) -> list:
    """Find text boxes on a copy at most DETECT_SIDE long, in full-image coordinates."""
    import cv2

    height, width = bgr.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(height, width))
    small = bgr if scale == 1.0 else cv2.resize(
        bgr, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    boxes, _ = engine.text_det(small)
    if boxes is None or len(boxes) == 0:
        return []
    boxes = (boxes / scale).astype("float32")
    return engine.sorted_boxes(boxes)


def _page_turn(boxes, classes) -> int:
    """Degrees (counter-clockwise, as numpy's rot90) that turn the page upright."""
    import numpy as np

    def is_tall(box) -> bool:
        width = np.linalg.norm(box[0] - box[1])
        height = np.linalg.norm(box[0] - box[3])
        return height >= 1.5 * width

    tall = [is_tall(box) for box in boxes]
    flipped = [label == "180" for label, _score in classes]
    if sum(tall) >= TURN_SHARE * len(boxes):
        # Tall crops are turned counter-clockwise before classification: upright text there
        # means the page runs top to bottom (turned clockwise), so turn it back by 90.
        upside = sum(f for f, t in zip(flipped, tall, strict=True) if t)
        return 270 if upside >= TURN_SHARE * sum(tall) else 90
    if sum(flipped) >= TURN_SHARE * len(boxes):
        return 180
    return 0
