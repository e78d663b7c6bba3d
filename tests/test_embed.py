"""aelab.embed: 2-D embeddings, kNN accuracy, trustworthiness, latent grids, anomaly AUC."""

import math

import pytest
import torch

from aelab import embed, mlp_autoencoder


def clusters(n=90, seed=0, spread=0.3):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    centres = torch.tensor([[0.0, 0, 0, 0], [4.0, 0, 0, 0], [0, 4.0, 0, 0]])
    return centres[labels] + spread * torch.randn(n, 4, generator=g), labels


def test_knn_accuracy_separated_clusters_is_one_and_excludes_self():
    z, y = clusters()
    assert embed.knn_accuracy(z, y, k=5) == 1.0
    # two points per class far apart: with the point itself excluded, the 1-NN is the other class
    z = torch.tensor([[0.0, 0], [10, 0], [0.1, 0], [10.1, 0]])
    assert embed.knn_accuracy(z, torch.tensor([0, 0, 1, 1]), k=1) == 0.0


def test_knn_accuracy_majority_vote_by_hand():
    z = torch.tensor([[0.0], [1.0], [2.0], [3.0], [10.0]])
    y = torch.tensor([0, 0, 1, 0, 1])
    # neighbours (k=3): 0:{1,2,3}->0 ok; 1:{0,2,3}->0 ok; 2:{1,3,0}->0 wrong; 3:{2,1,0}->0 ok; 4:{3,2,1}->0 wrong
    assert embed.knn_accuracy(z, y, k=3) == pytest.approx(3 / 5)
    # the same vote, point by point: the accuracy is the mean of the hits
    assert embed.knn_hits(z, y, k=3).tolist() == [True, True, False, True, False]


def test_neighbours_never_self():
    z, _ = clusters(30)
    idx = embed.neighbours(z, 4)
    assert idx.shape == (30, 4)
    assert not (idx == torch.arange(30).view(-1, 1)).any()


@pytest.mark.parametrize("bad", [dict(k=0), dict(k=90), dict(k=2.5)])
def test_knn_accuracy_rejects_bad_k(bad):
    z, y = clusters()
    with pytest.raises(ValueError):
        embed.knn_accuracy(z, y, **bad)


def test_knn_accuracy_rejects_bad_labels_and_points():
    z, y = clusters()
    with pytest.raises(ValueError):
        embed.knn_accuracy(z, y[:-1])
    with pytest.raises(ValueError):
        embed.knn_accuracy(z, y.float())
    with pytest.raises(ValueError):
        embed.knn_accuracy(z[:, 0], y)
    bad = z.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError):
        embed.knn_accuracy(bad, y)


def test_pca_2d_matches_leading_directions():
    z, _ = clusters()
    p = embed.pca_2d(z)
    assert p.shape == (90, 2) and p.dtype == torch.float32
    assert p.mean(0).abs().max() < 1e-4
    assert p[:, 0].var() >= p[:, 1].var()


def test_tsne_2d_keeps_clusters():
    z, y = clusters(60)
    t = embed.tsne_2d(z, perplexity=10, seed=0, max_iter=300)
    assert t.shape == (60, 2)
    assert embed.knn_accuracy(t, y, 5) == 1.0
    with pytest.raises(ValueError):
        embed.tsne_2d(z, perplexity=100)


def test_trustworthiness_of_identity_is_one_and_of_noise_lower():
    z, _ = clusters()
    assert embed.trustworthiness(z, z[:, :2], k=5) > 0.9
    noise = torch.randn(90, 2, generator=torch.Generator().manual_seed(1))
    assert embed.trustworthiness(z, noise, k=5) < 0.7
    with pytest.raises(ValueError):
        embed.trustworthiness(z, noise[:10])


def test_latent_grid_reading_order():
    g = embed.latent_grid([0.0, 0.0], [2.0, 1.0], 3)
    assert g.shape == (9, 2)
    assert g[0].tolist() == [0.0, 1.0]  # top left: smallest z1, largest z2
    assert g[2].tolist() == [2.0, 1.0]  # top right
    assert g[8].tolist() == [2.0, 0.0]  # bottom right
    with pytest.raises(ValueError):
        embed.latent_grid([1.0, 0.0], [0.0, 1.0], 3)
    with pytest.raises(ValueError):
        embed.latent_grid([0.0, 0.0], [1.0, 1.0], 0)


def test_code_box_and_distance_to_codes():
    codes = torch.tensor([[0.0, 0.0], [1.0, 1.0], [0.5, 0.5]])
    low, high = embed.code_box(codes, 0, 100)
    assert low.tolist() == [0.0, 0.0] and high.tolist() == [1.0, 1.0]
    d = embed.distance_to_codes(torch.tensor([[0.0, 0.0], [3.0, 4.0]]), torch.tensor([[0.0, 0.0]]))
    assert d.tolist() == pytest.approx([0.0, 5.0])
    with pytest.raises(ValueError):
        embed.code_box(torch.zeros(5, 3))


def test_roc_auc_known_values_ties_and_validation():
    assert embed.roc_auc(torch.tensor([3.0, 4.0, 1.0, 2.0]), torch.tensor([1, 1, 0, 0])) == 1.0
    assert embed.roc_auc(torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([1, 1, 0, 0])) == 0.0
    assert embed.roc_auc(torch.ones(6), torch.tensor([1, 0, 1, 0, 0, 0])) == 0.5
    # one anomaly at 2 vs normals 1, 2, 3: wins 1, tie 1/2, loses 1 -> 0.5
    assert embed.roc_auc(torch.tensor([2.0, 1.0, 2.0, 3.0]), torch.tensor([True, False, False, False])) == 0.5
    with pytest.raises(ValueError):
        embed.roc_auc(torch.ones(3), torch.tensor([0, 0, 0]))
    with pytest.raises(ValueError):
        embed.roc_auc(torch.ones(3), torch.tensor([0, 2, 1]))
    with pytest.raises(ValueError):
        embed.roc_auc(torch.tensor([1.0, float("nan")]), torch.tensor([0, 1]))


def test_auc_null_sd_matches_simulation():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(50) < 10
    aucs = torch.tensor([embed.roc_auc(torch.rand(50, generator=g), labels) for _ in range(400)])
    sd = embed.auc_null_sd(10, 40)
    assert math.isclose(float(aucs.std()), sd, rel_tol=0.15)
    assert abs(float(aucs.mean()) - 0.5) < 3 * sd / 20


@pytest.mark.parametrize("shift", [0.0, 1.2, -0.8])
def test_auc_standard_error_matches_simulation(shift):
    """Gaussian scores, anomalies shifted: the spread of the AUC over repeated draws matches the formula."""
    g = torch.Generator().manual_seed(1)
    n1, n0 = 60, 240
    labels = torch.arange(n1 + n0) < n1
    aucs = torch.tensor([embed.roc_auc(torch.randn(n1 + n0, generator=g) + shift * labels, labels)
                         for _ in range(400)])
    se = embed.auc_standard_error(float(aucs.mean()), n1, n0)
    assert math.isclose(float(aucs.std()), se, rel_tol=0.2)
    if shift == 0.0:
        assert math.isclose(se, embed.auc_null_sd(n1, n0), rel_tol=0.02)


def test_auc_standard_error_rejects_an_impossible_auc():
    with pytest.raises(ValueError, match="auc must lie in"):
        embed.auc_standard_error(1.2, 10, 10)


def test_roc_curve_ends_at_corners():
    fpr, tpr = embed.roc_curve(torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1]))
    assert fpr[0] == 0 and tpr[-1] == 1 and fpr[-1] == 1


def test_reconstruction_errors_per_sample(tiny_images):
    model = mlp_autoencoder(tiny_images.shape[1:], 4)
    errors = embed.reconstruction_errors(model, tiny_images[:10])
    with torch.no_grad():
        expected = (model(tiny_images[:10]) - tiny_images[:10]).pow(2).flatten(1).mean(1)
    assert errors.shape == (10,) and errors.dtype == torch.float64
    assert torch.allclose(errors, expected.double(), atol=1e-6)
    with pytest.raises(ValueError):
        embed.reconstruction_errors(model, torch.zeros(0, 1, 8, 8))


def test_plot_mosaic_draws_on_latent_axes():
    import matplotlib
    matplotlib.use("Agg")
    images = torch.rand(9, 1, 8, 8)
    ax = embed.plot_mosaic(images, [0.0, 0.0], [2.0, 1.0], 3)
    assert ax.get_xlabel() == "z1"
    x0, x1 = ax.get_xlim()
    assert x0 < 0 < 2 < x1
    with pytest.raises(ValueError):
        embed.plot_mosaic(images[:8], [0.0, 0.0], [1.0, 1.0], 3)
