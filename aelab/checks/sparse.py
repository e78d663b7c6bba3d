"""Checks for notebook 03 (the sparse autoencoder): rho_hat, the KL penalty, its gradient, and the
second-order size of the mini-batch (Jensen) bias of the penalty."""

from __future__ import annotations

import torch

from ..penalties import kl_divergence, kl_sparsity_gradient, kl_sparsity_penalty
from ._core import Exercise, register


def _codes(n: int, h: int, seed: int) -> torch.Tensor:
    """Sigmoid-like activations in (0.02, 0.98), shape (n, h), float64."""
    g = torch.Generator().manual_seed(seed)
    return 0.02 + 0.96 * torch.rand(n, h, generator=g, dtype=torch.float64)


def _kl(p, q):
    """KL(p || q) between Bernoulli distributions, elementwise: either argument may be the tensor."""
    return p * torch.log(p / q) + (1 - p) * torch.log((1 - p) / (1 - q))


check_rho_hat = Exercise(
    "rho_hat", lambda code: code.mean(dim=0),
    # The first input is square (N = H): averaging over the wrong axis gives the right shape, and the
    # mistake is recognized by its values.
    lambda: [(_codes(7, 7, 0),), (_codes(16, 5, 1),), (_codes(3, 11, 2),)],
    mistakes={
        "averaged over units": (
            lambda code: code.mean(dim=1),
            "you averaged each sample's activations over the hidden units (dim=1). rho_hat_j is the average "
            "activation of ONE unit j over the samples: average over the batch, code.mean(dim=0)."),
        "sum instead of mean": (
            lambda code: code.sum(dim=0),
            "you summed the activations over the samples; rho_hat_j is their mean (divide by N), so that it "
            "can be compared with a target activation rho in (0, 1)."),
        "mean over everything": (
            lambda code: code.mean().expand(code.shape[1]),
            "you returned one number for all units (the mean over samples AND units). Each unit j has its own "
            "rho_hat_j: average over the samples only, code.mean(dim=0)."),
    },
    hint="rho_hat_j = (1/N) sum_n a_j(x_n): one value per hidden unit.")

check_kl_penalty = Exercise(
    "KL sparsity penalty", lambda code, rho, beta: beta * kl_sparsity_penalty(code, rho),
    lambda: [(_codes(6, 6, 3), 0.05, 3.0), (_codes(20, 8, 4), 0.2, 0.5), (_codes(5, 13, 5), 0.1, 2.0)],
    forbidden=(kl_sparsity_penalty, kl_divergence),
    gradient=(0,),  # a penalty is trained through
    mistakes={
        "missing beta": (
            lambda code, rho, beta: kl_divergence(rho, code.mean(dim=0)).sum(),
            "the value is right up to the factor beta: multiply the sum of KL terms by beta, the weight of the "
            "sparsity penalty in the objective."),
        "swapped arguments KL(rho_hat || rho)": (
            lambda code, rho, beta: beta * _kl(code.mean(dim=0), rho).sum(),
            "you computed KL(rho_hat || rho): the arguments are swapped. KL is not symmetric; the penalty is "
            "KL(rho || rho_hat_j) = rho log(rho / rho_hat_j) + (1 - rho) log((1 - rho) / (1 - rho_hat_j)), with "
            "the target rho as the FIRST distribution."),
        "rho_hat averaged over units": (
            lambda code, rho, beta: beta * kl_divergence(rho, code.mean(dim=1)).sum(),
            "your rho_hat averages each sample's activations over the units (dim=1). rho_hat_j is the mean "
            "activation of unit j over the samples: code.mean(dim=0), one value per hidden unit."),
        "mean over units instead of sum": (
            lambda code, rho, beta: beta * kl_divergence(rho, code.mean(dim=0)).mean(),
            "you averaged the KL terms over the hidden units; the penalty SUMS them: "
            "beta * sum_j KL(rho || rho_hat_j)."),
        "only the rho log(rho / rho_hat) term": (
            lambda code, rho, beta: beta * (rho * torch.log(rho / code.mean(dim=0))).sum(),
            "you kept only rho log(rho / rho_hat_j). The Bernoulli KL has a second term, "
            "(1 - rho) log((1 - rho) / (1 - rho_hat_j)), for the probability of the unit being OFF."),
    },
    hint="beta * sum over units j of KL(rho || rho_hat_j), with rho_hat = code.mean(dim=0).")


def _gradient_cases():
    g = torch.Generator().manual_seed(6)
    return [(0.01 + 0.98 * torch.rand(9, generator=g, dtype=torch.float64), rho, beta)
            for rho, beta in ((0.05, 3.0), (0.2, 0.7), (0.5, 2.0))]


check_kl_gradient = Exercise(
    "KL penalty gradient", kl_sparsity_gradient, _gradient_cases,
    forbidden=(kl_divergence, kl_sparsity_penalty, torch.autograd.grad, torch.autograd.backward),
    mistakes={
        "(1-rho)/rho_hat typo": (
            lambda q, rho, beta: beta * (-rho / q + (1 - rho) / q),
            "the second term should be (1 - rho) / (1 - rho_hat), not (1 - rho) / rho_hat: differentiate "
            "(1 - rho) log((1 - rho) / (1 - rho_hat)) = const - (1 - rho) log(1 - rho_hat); the chain rule "
            "through (1 - rho_hat) gives + (1 - rho) / (1 - rho_hat)."),
        "slide's garbled -rho/rho": (
            lambda q, rho, beta: beta * (-1.0 + (1 - rho) / (1 - q)),
            "your first term is -rho/rho = -1, as the slide prints it. The derivative of -rho log(rho_hat) is "
            "-rho / rho_hat."),
        "swapped arguments KL(rho_hat || rho)": (
            lambda q, rho, beta: beta * (torch.log(q / rho) - torch.log((1 - q) / (1 - rho))),
            "this is the derivative of KL(rho_hat || rho): the arguments are swapped. The penalty is "
            "KL(rho || rho_hat); differentiate it with respect to its second argument rho_hat."),
        "missing beta": (
            lambda q, rho, beta: -rho / q + (1 - rho) / (1 - q),
            "right up to the factor beta: the penalty is beta * KL, so its derivative is beta times the KL's."),
        "sign flipped": (
            lambda q, rho, beta: beta * (rho / q - (1 - rho) / (1 - q)),
            "the sign is flipped: for rho_hat > rho the penalty grows with rho_hat, so the derivative must be "
            "positive there."),
    },
    hint="d/dq [p log(p/q) + (1-p) log((1-p)/(1-q))] = -p/q + (1-p)/(1-q).")


def second_order_jensen_gap(batch_means: torch.Tensor, rho: float) -> float:
    """Second-order prediction of mean_b sum_j KL(rho || m_bj) - sum_j KL(rho || mbar_j).

    ``batch_means`` (B, H): the mean activation m_bj of unit j on batch b, for B equal-size batches that
    partition the data, so that mbar_j = mean_b m_bj is the data-set mean. Expanding KL(rho || m) around
    mbar, the first-order term averages to zero over the batches, and the second-order term is
    1/2 KL''(mbar_j) mean_b (m_bj - mbar_j)^2, with KL''(q) = rho / q^2 + (1 - rho) / (1 - q)^2.
    """
    q = batch_means.mean(dim=0)
    curvature = rho / q**2 + (1 - rho) / (1 - q) ** 2
    return float(0.5 * (curvature * batch_means.var(dim=0, unbiased=False)).sum())


def _batch_means_cases():
    g = torch.Generator().manual_seed(7)
    cases = []
    for b, h, low, high, rho in ((6, 5, 0.02, 0.12, 0.05), (9, 4, 0.1, 0.5, 0.3), (4, 7, 0.3, 0.7, 0.6)):
        cases.append((low + (high - low) * torch.rand(b, h, generator=g, dtype=torch.float64), rho))
    return cases


def _centred(m):
    return m.mean(dim=0), m.var(dim=0, unbiased=False)


check_jensen_gap = Exercise(
    "second-order Jensen gap", second_order_jensen_gap, _batch_means_cases,
    mistakes={
        "exact gap, not its second-order prediction": (
            lambda m, rho: float(_kl(rho, m).sum(dim=1).mean() - _kl(rho, m.mean(dim=0)).sum()),
            "you computed the gap itself, as section 3's cell measures it. The exercise asks for its PREDICTION "
            "from the batch means' spread: expand KL(rho || m) to second order around the data-set mean."),
        "missing the 1/2": (
            lambda m, rho: float(((rho / _centred(m)[0] ** 2 + (1 - rho) / (1 - _centred(m)[0]) ** 2)
                                  * _centred(m)[1]).sum()),
            "twice the right value: the second-order Taylor term is f''(q) (m - q)^2 / 2."),
        "only the rho / q^2 term": (
            lambda m, rho: float((0.5 * rho / _centred(m)[0] ** 2 * _centred(m)[1]).sum()),
            "your curvature has only rho / q^2. The term (1 - rho) log((1 - rho) / (1 - q)) has curvature "
            "(1 - rho) / (1 - q)^2 too: differentiate -rho / q + (1 - rho) / (1 - q) once more."),
        "minus between the curvature terms": (
            lambda m, rho: float((0.5 * (rho / _centred(m)[0] ** 2 - (1 - rho) / (1 - _centred(m)[0]) ** 2)
                                  * _centred(m)[1]).sum()),
            "the derivative of (1 - rho) / (1 - q) with respect to q is + (1 - rho) / (1 - q)^2 (the chain rule "
            "through 1 - q flips the sign twice): both curvature terms are positive, KL is convex."),
        "curvature of KL(rho_hat || rho)": (
            lambda m, rho: float((0.5 * (1 / _centred(m)[0] + 1 / (1 - _centred(m)[0])) * _centred(m)[1]).sum()),
            "1/q + 1/(1 - q) is the curvature of KL(q || rho), the arguments swapped. The penalty is "
            "KL(rho || q): its second derivative in q is rho / q^2 + (1 - rho) / (1 - q)^2."),
        "variance with B - 1": (
            lambda m, rho: float((0.5 * (rho / _centred(m)[0] ** 2 + (1 - rho) / (1 - _centred(m)[0]) ** 2)
                                  * m.var(dim=0, unbiased=True)).sum()),
            "you divided the squared deviations by B - 1. The gap is an average over the B batches that exist "
            "(no estimate of a population is involved): divide by B, var(dim=0, unbiased=False)."),
    },
    hint="KL(rho || m) ~ KL(rho || q) + KL'(q) (m - q) + KL''(q) (m - q)^2 / 2 with q = batch_means.mean(0); "
         "the middle term averages to 0 over the batches.")

register(globals())
