"""Edit a model's metadata as tests need: re-signed (its decision digest recomputed, as training writes it) or not."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.model import METADATA_DIGEST, metadata_digest, metadata_path


def resigned(meta: dict) -> dict:
    """Metadata whose decision digest is recomputed, as a whole model.json written for another model has."""
    return meta | {METADATA_DIGEST: metadata_digest(meta)}


def edit_metadata(model_path: Path | str, resign: bool, **changes) -> None:
    """Set `changes` in the metadata beside `model_path`; `resign` recomputes its digest to match."""
    meta_path = metadata_path(Path(model_path))
    meta = json.loads(meta_path.read_text()) | changes
    meta_path.write_text(json.dumps(resigned(meta) if resign else meta))
