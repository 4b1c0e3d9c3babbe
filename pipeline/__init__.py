"""bpo-kpo: classify job postings as BPO or KPO work; `load_model` is the API for services."""

from pipeline.errors import BpoKpoError, DataError, ModelError

__all__ = ["BpoKpoError", "DataError", "Model", "ModelError", "load_model"]


def __getattr__(name: str):
    # Imported on first use so that `bpo-kpo --help` and the CLI's start-up do not pay for scikit-learn.
    if name in ("Model", "load_model"):
        from pipeline import model

        return getattr(model, name)
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
