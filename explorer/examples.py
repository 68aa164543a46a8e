"""Which images to show as examples of a dataset: a few of every class, not the first few rows (often one class)."""

from __future__ import annotations

import numpy as np

MAX_CLASSES = 20  # classes shown at most; a set with more shows its first 20 and the page says so
UNLABELLED = 10  # examples per "class" for a set without labels: this many times per_class rows


def examples_per_class(rows: np.ndarray, labels: np.ndarray | None, per_class: int,
                       max_classes: int = MAX_CLASSES) -> np.ndarray:
    """Up to per_class of the given rows for each class, class by class (smallest label first), each class's
    first rows in the order given; without labels, the first per_class * UNLABELLED rows.
    One stable sort: O(n log n) at a million rows, whatever the number of classes."""
    rows = np.asarray(rows, dtype=np.int64)
    if labels is None:
        return rows[: per_class * UNLABELLED]
    lab = np.asarray(labels)[rows]
    order = np.argsort(lab, kind="stable")
    sorted_lab = lab[order]
    classes, starts = np.unique(sorted_lab, return_index=True)
    group = np.searchsorted(classes, sorted_lab)
    rank = np.arange(len(order)) - starts[group]  # position of each row within its class
    keep = (rank < per_class) & (group < max_classes)
    return rows[order[keep]]
