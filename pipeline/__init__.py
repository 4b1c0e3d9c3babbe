"""bpo-kpo: classify job postings as BPO or KPO work; `load_model` is the API for services."""

from pipeline.errors import BpoKpoError, DataError, ModelError
from pipeline.model import Model, load_model

__all__ = ["BpoKpoError", "DataError", "Model", "ModelError", "load_model"]
