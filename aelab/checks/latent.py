"""Checks for notebook 08 (latent-space visualization): kNN accuracy of an embedding, the
reconstruction-error anomaly AUC, and the latent grid behind the decoded mosaic."""

from __future__ import annotations

import torch

from .. import embed
from ._core import Exercise, register

# --- exercise 2: leave-one-out kNN accuracy -----------------------------------------------------


def _sorted_distances(z):
    z = torch.as_tensor(z).double()
    return torch.cdist(z, z)


def _vote(votes: torch.Tensor, n_classes: int) -> torch.Tensor:
    counts = torch.zeros(len(votes), n_classes, dtype=torch.long)
    counts.scatter_add_(1, votes, torch.ones_like(votes))
    return counts.argmax(dim=1)


def _knn_self_included(z, labels, k):
    idx = _sorted_distances(z).topk(k, dim=1, largest=False).indices  # the point itself comes first
    return float((_vote(labels[idx], int(labels.max()) + 1) == labels).double().mean())


def _knn_own_label_votes(z, labels, k):
    idx = embed.neighbours(z, k)
    votes = torch.cat([labels.view(-1, 1), labels[idx]], dim=1)
    return float((_vote(votes, int(labels.max()) + 1) == labels).double().mean())


def _knn_mean_label(z, labels, k):
    pred = labels[embed.neighbours(z, k)].double().mean(dim=1).round().long()
    return float((pred == labels).double().mean())


def _knn_cases():
    """Overlapping clusters in 2-D where no vote is tied, so any tie-breaking rule is accepted."""
    cases, seed = [], 0
    while len(cases) < 3:
        g = torch.Generator().manual_seed(seed)
        seed += 1
        n_classes, n, k = 3, 60, (5, 3, 7)[len(cases)]
        labels = torch.arange(n) % n_classes
        centres = torch.tensor([[0.0, 0.0], [1.5, 0.0], [0.7, 1.3]])
        z = centres[labels] + 0.8 * torch.randn(n, 2, generator=g)
        counts = torch.zeros(n, n_classes, dtype=torch.long)
        votes = labels[embed.neighbours(z, k)]
        counts.scatter_add_(1, votes, torch.ones_like(votes))
        top = counts.topk(2, dim=1).values
        if (top[:, 0] > top[:, 1]).all():
            cases.append((z, labels, k))
    return cases


_KNN_ACCURACY_MISTAKES = {
    "point counted as its own neighbour": (
        _knn_self_included,
        "each point was found among its own k nearest neighbours (its distance to itself is 0), so it "
        "votes for its own, correct label. Exclude the point itself, e.g. set the diagonal of the distance "
        "matrix to infinity before taking the k smallest."),
    "query's own label in the vote": (
        _knn_own_label_votes,
        "the vote includes the query's own label besides its k neighbours. The label of the point being "
        "classified is what we try to predict: it may only be used to score the prediction."),
    "first neighbour only": (
        lambda z, labels, k: float((labels[embed.neighbours(z, 1)[:, 0]] == labels).double().mean()),
        "the prediction is the label of the single nearest neighbour, whatever k is. Take the majority "
        "label of all k neighbours (count the labels, e.g. with torch.bincount or scatter_add, then argmax)."),
    "mean of the neighbour labels": (
        _knn_mean_label,
        "the class was predicted by averaging the neighbours' label numbers. Class indices are names, not "
        "quantities: the mean of a 0 and a 2 is not a 1. Count the votes per class and take the most frequent."),
    "neighbour purity instead of accuracy": (
        lambda z, labels, k: float((labels[embed.neighbours(z, k)] == labels.view(-1, 1)).double().mean()),
        "this is the fraction of neighbours that share the query's label (neighbourhood purity), not the "
        "accuracy of the majority vote. Predict one class per point by majority vote, then compare."),
}
# ``student(z, labels, k)``: leave-one-out kNN accuracy (a float in [0, 1]).
check_knn_accuracy = Exercise(
    "knn_accuracy", embed.knn_accuracy, _knn_cases, mistakes=_KNN_ACCURACY_MISTAKES, atol=1e-6, rtol=0,
    hint="exclude the point itself, vote among its k nearest others, compare with its label.")


# --- exercise 3: reconstruction-error anomaly AUC ------------------------------------------------


def _errors(x, x_hat):
    return (x.double() - x_hat.double()).pow(2).flatten(1).mean(dim=1)


def _pairwise(scores, is_anomaly, tie_weight):
    a, n = scores[is_anomaly], scores[~is_anomaly]
    diff = a.view(-1, 1) - n.view(1, -1)
    return float(((diff > 0).double() + tie_weight * (diff == 0).double()).mean())


def _auc_cases():
    cases = []
    for seed, (n, n_anom) in enumerate(((40, 10), (60, 25), (30, 6))):
        g = torch.Generator().manual_seed(100 + seed)
        x = torch.rand(n, 1, 4, 4, generator=g)
        is_anomaly = torch.zeros(n, dtype=torch.bool)
        is_anomaly[torch.randperm(n, generator=g)[:n_anom]] = True
        scale = torch.where(is_anomaly, 0.35, 0.2).view(-1, 1, 1, 1)
        x_hat = (x + scale * torch.randn(x.shape, generator=g)).clamp(0, 1)
        exact = torch.randperm(n, generator=g)[:n // 5]  # perfect reconstructions: tied scores of 0
        x_hat[exact] = x[exact]
        is_anomaly[exact[:2]] = True
        is_anomaly[exact[2:4]] = False
        cases.append((x, x_hat, is_anomaly))
    return cases


_ANOMALY_AUC_MISTAKES = {
    "scores of the wrong sign": (
        lambda x, x_hat, is_anomaly: embed.roc_auc(-_errors(x, x_hat), is_anomaly),
        "your AUC is 1 minus the right one: the scores have the wrong sign (or the classes are swapped). "
        "An anomaly detector flags LARGE reconstruction errors, so the AUC is the probability that an "
        "anomaly's error is larger than a normal sample's."),
    "ties ignored": (
        lambda x, x_hat, is_anomaly: _pairwise(_errors(x, x_hat), is_anomaly, 0.0),
        "pairs with equal scores were counted as lost. A tie is a coin flip for the ranking: it counts 1/2 "
        "(that is what makes a constant score give exactly 0.5)."),
    "ties counted as won": (
        lambda x, x_hat, is_anomaly: _pairwise(_errors(x, x_hat), is_anomaly, 1.0),
        "pairs with equal scores were counted as won (>= instead of >). A tie counts 1/2."),
    "signed error": (
        lambda x, x_hat, a: embed.roc_auc((x.double() - x_hat.double()).flatten(1).mean(dim=1), a),
        "the score is the mean of the signed difference x - x_hat, where positive and negative errors "
        "cancel. Use the squared error per sample, ((x - x_hat)**2) averaged over the pixels."),
}
# ``student(x, x_hat, is_anomaly)``: ROC AUC of the per-sample mean squared error as anomaly score.
check_anomaly_auc = Exercise(
    "anomaly_auc", lambda x, x_hat, is_anomaly: embed.roc_auc(_errors(x, x_hat), is_anomaly), _auc_cases,
    mistakes=_ANOMALY_AUC_MISTAKES, atol=1e-6, rtol=0,
    hint="score = per-sample mean squared error; AUC = P(anomaly score > normal score) + 1/2 P(tie), over all "
         "(anomaly, normal) pairs.")


# --- exercise 1: the latent grid -----------------------------------------------------------------


def _grid_upside_down(low, high, n):
    g = embed.latent_grid(low, high, n).view(n, n, 2)
    return g.flip(0).reshape(-1, 2)


def _grid_transposed(low, high, n):
    g = embed.latent_grid(low, high, n).view(n, n, 2)
    return g.transpose(0, 1).reshape(-1, 2)


def _grid_no_endpoint(low, high, n):
    low, high = torch.as_tensor(low, dtype=torch.float32), torch.as_tensor(high, dtype=torch.float32)
    step = (high - low) / n
    return embed.latent_grid(low, high - step, n)


def _grid_cases():
    return [(torch.tensor([-2.0, -1.0]), torch.tensor([3.0, 4.0]), 5),
            (torch.tensor([0.0, 0.0]), torch.tensor([1.0, 2.0]), 4),
            (torch.tensor([-1.0, 5.0]), torch.tensor([1.0, 6.0]), 7)]


_LATENT_GRID_MISTAKES = {
    "upside down": (
        _grid_upside_down,
        "the first row of your grid has the SMALLEST z2. An image is drawn from the top down, while a plot's "
        "z2 axis grows upwards: the top row of the mosaic must be the largest z2, or the mosaic is the "
        "scatter plot flipped upside down."),
    "rows and columns swapped": (
        _grid_transposed,
        "consecutive points step along z2 instead of z1: rows and columns are swapped (check the "
        "indexing of meshgrid, and that column 0 of the result is z1)."),
    "end point missing": (
        _grid_no_endpoint,
        "the grid stops one step short of high (arange-style). Use torch.linspace(low, high, n), which "
        "includes both ends."),
}
# ``student(low, high, n)``: the (n*n, 2) grid in reading order (top row = largest z2).
check_latent_grid = Exercise(
    "latent_grid", embed.latent_grid, _grid_cases, mistakes=_LATENT_GRID_MISTAKES, atol=1e-5, rtol=1e-5,
    hint="z1 = linspace(low[0], high[0], n) left to right; z2 = linspace(high[1], low[1], n) "
         "top to bottom; row by row.")


# --- exercise 4: the AUC of a contaminated anomaly set -------------------------------------------


def _contaminated_cases():
    return [(0.9, 0.2), (0.3, 0.5), (0.75, 0.1)]


_CONTAMINATED_AUC_MISTAKES = {
    "copies counted as caught": (
        lambda auc, f: (1 - f) * auc + f,
        "you counted every copy as outscoring the normal images (a pair won). A copy of a normal image is "
        "another draw from the normal scores: against a random normal image it wins, loses or ties like a "
        "coin flip, so its pairs contribute 1/2 on average."),
    "copies counted as missed": (
        lambda auc, f: (1 - f) * auc,
        "you counted every copy as scoring below the normal images (a pair lost). A copy of a normal image "
        "is another draw from the normal scores: its pairs contribute 1/2 on average, not 0."),
    "weights swapped": (
        lambda auc, f: f * auc + (1 - f) / 2,
        "the weights are swapped: a fraction f of the anomalies are copies (coin flips), the remaining "
        "1 - f keep the original AUC."),
    "AUC unchanged": (
        lambda auc, f: auc,
        "the AUC is not invariant here: it is a mean over (anomaly, normal) pairs, and the pairs of the copied "
        "anomalies change. (It is invariant under a monotone increasing map of the scores, which this is not.)"),
    "copies scored as 1 - AUC": (
        lambda auc, f: (1 - f) * auc + f * (1 - auc),
        "a copy of a normal image scores against the normal images, not against the anomalies: its "
        "pairs contribute 1/2 on average, whatever the AUC."),
}
# ``student(auc, f)``: expected AUC after a fraction f of the anomalies is replaced by copies of normal images.
check_contaminated_auc = Exercise(
    "contaminated_auc", lambda auc, f: (1 - f) * auc + f / 2, _contaminated_cases,
    mistakes=_CONTAMINATED_AUC_MISTAKES, atol=1e-6, rtol=0,
    hint="split the (anomaly, normal) pairs into those of the kept anomalies and those of the copies; what is "
         "P(copy > normal) + 1/2 P(copy = normal) when the copy is itself a random normal image?")

register(globals())
