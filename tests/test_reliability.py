"""explorer.reliability: the score is 1 on the data and falls away from it, the round trip of an exact model is 0,
and on held-out mnist5k images the reliability at their map spots ranks how well decoding the spot reproduces them."""

import numpy as np
import pytest
import torch
from scipy.stats import chi2
from torch import nn

from explorer import reliability as R
from explorer.inverse import LinearInverse


class Identity2d(nn.Module):
    """An exact 'autoencoder' (d = 2 unless told): the image (1, 1, d) is the code."""

    family, samples_prior = "identity", False  # the interface's name and capability (no N(0, I) prior)

    def __init__(self, dim: int = 2):
        super().__init__()
        self.dim = dim
        self.register_buffer("anchor", torch.zeros(1))  # device.model_device needs one tensor

    def encode(self, x):
        return x.flatten(1)

    def decode(self, z):
        return z.view(-1, 1, 1, self.dim)


@pytest.fixture
def blob():
    """300 codes in a unit disc, their identity map, the exact inverse, and the reference over them."""
    rng = np.random.default_rng(0)
    r, a = np.sqrt(rng.uniform(0, 1, 300)), rng.uniform(0, 2 * np.pi, 300)
    codes = np.column_stack([r * np.cos(a), r * np.sin(a)]).astype(np.float32)
    model, inverse = Identity2d(), LinearInverse.identity(2)
    images = torch.from_numpy(codes).view(-1, 1, 1, 2)
    ref = R.reference(model, codes, codes, images, inverse, to_map=lambda z: np.asarray(z, np.float64))
    return model, inverse, codes, ref


def test_exact_model_scores_one_on_the_data_with_no_round_trip(blob):
    model, inverse, codes, ref = blob
    rel = R.at_spots(ref, model, inverse, codes)
    assert np.abs(rel.trip).max() < 1e-6  # decode, encode, map again: back on the spot
    assert np.abs(rel.data).max() < 1e-6 and np.abs(rel.code).max() < 1e-6 and np.abs(rel.local_error).max() < 1e-6
    assert rel.prior is None  # not a VAE
    np.testing.assert_allclose(rel.score, 1.0, atol=1e-6)


def test_score_falls_away_from_the_data(blob):
    model, inverse, codes, ref = blob
    ray = np.column_stack([np.linspace(1.0, 6.0, 30), np.zeros(30)])  # from the disc's edge outwards
    score = R.at_spots(ref, model, inverse, ray).score
    assert np.all(np.diff(score) < 0)
    assert score[0] > 0.9 and score[-1] < 0.01
    assert R.at_spots(ref, model, inverse, codes).score.min() > score.max()  # every data point beats the ray
    assert R.falloff(R.FALLOFF) == pytest.approx(0.5)  # the documented half-way point


def test_heat_layer_is_highest_over_the_data(blob):
    model, inverse, codes, ref = blob
    layer = R.heat_layer(ref, model, inverse, ((-3.0, 3.0), (-2.0, 4.0)), n=25)
    assert layer.z.shape == (25, 25) and np.all(np.diff(layer.y) > 0)  # rows bottom to top, as plotly draws
    gx, gy = np.meshgrid(layer.x, layer.y)
    inside = np.hypot(gx, gy) < 0.8
    assert layer.z[inside].min() > layer.z[np.hypot(gx, gy) > 2.5].max()
    assert 0 < layer.z.min() and layer.z.max() <= 1


def test_codes_are_judged_in_code_space_where_a_straight_path_leaves_the_data():
    """A half circle of codes in 3-D: the chord between its ends crosses empty space, the arc does not."""
    from explorer.paths import straight_path

    a = np.linspace(0, np.pi, 300)
    codes = np.column_stack([np.cos(a), np.sin(a), np.zeros_like(a)]).astype(np.float32)
    model = Identity2d(3)
    images = torch.from_numpy(codes).view(-1, 1, 1, 3)
    ref = R.reference(model, codes[:, :2], codes, images, lambda p: np.column_stack([p, np.zeros(len(p))]),
                      to_map=lambda z: np.asarray(z)[:, :2])
    on_arc = R.of_codes(ref, model, codes)
    np.testing.assert_allclose(on_arc.score, 1.0, atol=1e-6)
    assert np.abs(on_arc.trip).max() < 1e-6 and np.all(on_arc.data == 0)
    chord = R.of_codes(ref, model, straight_path(codes[0], codes[-1], 11)).score
    assert chord[0] == pytest.approx(1.0) and chord[-1] == pytest.approx(1.0)
    assert chord[5] < 0.02  # (0, 0, 0): 95 spacings from the arc


def test_prior_term_is_one_inside_the_typical_ball_and_the_relative_tail_outside():
    d = 4
    r99 = np.sqrt(chi2.ppf(R.PRIOR_MASS, d))
    z = np.array([[0, 0, 0, 0], [r99 * 0.99, 0, 0, 0], [r99 * 1.5, 0, 0, 0], [r99 * 3, 0, 0, 0]])
    p = R.prior_term(z)
    assert p[0] == 1 and p[1] == 1 and 0 < p[3] < p[2] < 1
    assert p[2] == pytest.approx(chi2.sf((r99 * 1.5) ** 2, d) / (1 - R.PRIOR_MASS))


def test_reference_is_capped_and_says_so(monkeypatch, blob):
    model, inverse, codes, _ = blob
    monkeypatch.setattr(R, "REFERENCE_MAX", 100)
    images = torch.from_numpy(codes).view(-1, 1, 1, 2)
    ref = R.reference(model, codes, codes, images, inverse)
    assert ref.sampled and ref.n_reference == 100 and ref.n_data == 300 and len(ref.local_error) == 100


# measured (README): conv-ae-d2 codes 0.66, conv-ae-d16 PCA map 0.71, vae-d2 codes 0.45, conv-ae-d16 UMAP 0.60
@pytest.mark.parametrize("name, method, bound", [("conv-ae-d2", "direct", 0.55), ("conv-ae-d16", "pca", 0.6),
                                                 ("vae-d2", "direct", 0.35)])
def test_heldout_reliability_ranks_the_decoding_error(mnist5k, checkpoint_copy, name, method, bound):
    from explorer.checkpoints import load_checkpoint
    from explorer.codes import codes_for
    from explorer.project import project

    path = checkpoint_copy / "mnist5k" / name
    model, _ = load_checkpoint(path, mnist5k.image_shape)
    codes = codes_for(path, model, mnist5k)
    v = R.heldout_validation(model, project(codes, method, path), codes, mnist5k)
    assert v.n == 1000 and v.spearman > bound
    assert 0 < v.mean_score <= 1


def test_pca_map_of_d16_codes_is_flagged_unreliable(mnist5k, checkpoint_copy):
    """A PCA-map spot of d = 16 codes decodes the plane's point: error 57 against 8.5 on the UMAP map."""
    from explorer.checkpoints import load_checkpoint
    from explorer.codes import codes_for
    from explorer.project import project

    path = checkpoint_copy / "mnist5k" / "conv-ae-d16"
    model, _ = load_checkpoint(path, mnist5k.image_shape)
    codes = codes_for(path, model, mnist5k)
    pca, umap = (R.heldout_validation(model, project(codes, m, path), codes, mnist5k, n_max=300)
                 for m in ("pca", "umap"))
    assert pca.mean_error > 4 * umap.mean_error
    assert pca.mean_score < 0.3 * umap.mean_score  # measured 0.088 against 0.48


def test_a_million_points_cost_a_capped_reference_and_a_40_by_40_grid():
    """At a million map points the reference holds REFERENCE_MAX of them and the heat layer 1,600 spots."""
    import time

    rng = np.random.default_rng(0)
    codes = rng.normal(size=(1_000_000, 2)).astype(np.float32)
    model, inverse = Identity2d(), LinearInverse.identity(2)
    t = time.perf_counter()
    ref = R.reference(model, codes, codes, torch.from_numpy(codes).view(-1, 1, 1, 2), inverse)
    layer = R.heat_layer(ref, model, inverse, ((-4.0, 4.0), (-4.0, 4.0)))
    assert time.perf_counter() - t < 20  # about 1 s here
    assert ref.sampled and ref.n_reference == R.REFERENCE_MAX and ref.n_data == 1_000_000
    assert layer.z.shape == (R.HEAT_GRID_N, R.HEAT_GRID_N)
    assert layer.z[20, 20] > 0.9 > 0.5 > layer.z[0, 0]  # the centre of N(0, I) against its corner at (-4, -4)
