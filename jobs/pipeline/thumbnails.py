"""Small previews: WebP, long side 320 px, from the pipeline's reduced and oriented decode."""

import io

from PIL import Image

THUMBNAIL_SIZE = 320
CONTENT_TYPE = "image/webp"
EXTENSION = ".webp"


def render_thumbnail(image: Image.Image) -> bytes:
    preview = image.copy()
    # reducing_gap shrinks by whole factors first, then resamples: near-LANCZOS quality, far faster.
    preview.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS, reducing_gap=2.0)
    out = io.BytesIO()
    preview.save(out, "WEBP", quality=80, method=2)
    return out.getvalue()
