from explorer.datasets.base import Dataset
from explorer.datasets.registry import DATASETS, DEFAULT_DATASET, load_dataset

__all__ = ["Dataset", "DATASETS", "DEFAULT_DATASET", "load_dataset"]
