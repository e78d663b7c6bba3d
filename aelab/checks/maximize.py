"""Checks for notebook 07 (activation maximization): the projected ascent step, the closed-form
first-layer optimum, the agreement of several optima (mean pairwise cosine), and the angle to the
first-layer optimum after k projected steps (a derivation the notebook then compares with the ascent)."""

from __future__ import annotations

import torch

from ..maximize import first_layer_optimum, mean_pairwise_cosine, project_to_sphere
from ._core import Exercise, register


def _rows(v: torch.Tensor) -> torch.Tensor:
    """Norm of each sample of v (N, ...), shaped to broadcast against v."""
    return v.flatten(1).norm(dim=1).view(-1, *([1] * (v.ndim - 1)))


def _from_v(wrong):
    """A wrong step written in terms of v = x + lr * grad."""
    return lambda x, grad, lr, rho: wrong(x + lr * grad, x, rho)


def _step_cases():
    g = torch.Generator().manual_seed(7)
    x1 = torch.randn(4, 6, generator=g, dtype=torch.float64)
    x1 = 3.0 * x1 / _rows(x1)  # on the sphere of radius 3
    grad1 = torch.randn(4, 6, generator=g, dtype=torch.float64)
    # the gradient points inwards: x + lr * grad lies inside the ball, where ball and sphere differ
    x2 = torch.randn(5, 8, generator=g, dtype=torch.float64)
    x2 = 2.0 * x2 / _rows(x2)
    grad2 = -0.6 * x2 + 0.3 * torch.randn(5, 8, generator=g, dtype=torch.float64)
    # starts off the sphere (norms 0.5 to 4), images of shape (1, 3, 3)
    x3 = torch.randn(3, 1, 3, 3, generator=g, dtype=torch.float64) * torch.tensor([0.3, 1.0, 2.5]).view(3, 1, 1, 1)
    grad3 = torch.randn(3, 1, 3, 3, generator=g, dtype=torch.float64)
    return [(x1, grad1, 0.5, 3.0), (x2, grad2, 1.0, 2.0), (x3, grad3, 0.7, 1.5)]


_PROJECTED_STEP_MISTAKES = {
    "no re-projection": (lambda x, grad, lr, rho: x + lr * grad,
                         "you return x + lr * grad without projecting it back onto the sphere: the "
                         "constraint ||x|| = rho is lost and, for a unit that grows along a direction, "
                         "the norm of x grows without bound. Divide x + lr * grad by its norm and "
                         "multiply by rho."),
    "descent instead of ascent": (lambda x, grad, lr, rho: project_to_sphere(x - lr * grad, rho),
                                  "you step along -grad: that is gradient DESCENT, which finds the input "
                                  "that the unit likes least. Activation maximization steps uphill: "
                                  "x + lr * grad."),
    "projection onto the ball": (_from_v(lambda v, x, rho: v * torch.clamp(rho / _rows(v), max=1.0)),
                                 "you only shrink points that lie outside ||x|| <= rho; points inside the "
                                 "ball stay where they are. The constraint is the sphere ||x|| = rho: "
                                 "every point must be rescaled to norm rho, inside or outside."),
    "unit radius": (_from_v(lambda v, x, rho: project_to_sphere(v, 1.0)),
                    "you normalize to norm 1 instead of rho: multiply the unit vector by rho."),
    "keeps the old norm": (_from_v(lambda v, x, rho: _rows(x) * v / _rows(v)),
                           "you rescale to the norm of the old x, not to rho: when x is not yet on the "
                           "sphere it never gets there. Rescale to rho."),
    "normalized gradient, x not projected": (
        lambda x, grad, lr, rho: x + lr * grad / _rows(grad),
        "you normalize the gradient (a fine way to choose the step length) but never normalize x: the "
        "iterate leaves the sphere. Project x + lr * grad (whatever grad you use) back to norm rho."),
    "normalized gradient times rho, x not projected": (
        lambda x, grad, lr, rho: x + lr * rho * grad / _rows(grad),
        "you take a step of length lr * rho along the normalized gradient but never normalize x: the "
        "iterate leaves the sphere. Project x + lr * grad back to norm rho."),
    "norm of the whole batch": (_from_v(lambda v, x, rho: rho * v / v.norm()),
                                "you divide by the norm of the whole batch: each row (each start) has "
                                "its own constraint ||x_n|| = rho. Take the norm over all dimensions "
                                "but the first, e.g. v.flatten(1).norm(dim=1), reshaped to broadcast."),
}
# ``student(x, grad, lr, rho)`` -> rho * (x + lr grad) / ||x + lr grad||, row by row.
check_projected_step = Exercise(
    "projected gradient-ascent step", lambda x, grad, lr, rho: project_to_sphere(x + lr * grad, rho), _step_cases,
    forbidden=(project_to_sphere,),
    mistakes=_PROJECTED_STEP_MISTAKES, hint="x_new = rho * v / ||v|| with v = x + lr * grad, the norm taken per row.")


def _optimum_cases():
    g = torch.Generator().manual_seed(3)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    return [(randn(4, 9), randn(4), 2.5), (randn(3, 3), randn(3), 1.7), (0.1 * randn(6, 16), randn(6), 9.0)]


def _rows_to(norm, weight, dim=1):
    """A wrong optimum: each row (or column) of ``weight`` rescaled by ``norm`` over its own norm."""
    return norm * weight / weight.norm(dim=dim, keepdim=True)


_FIRST_LAYER_OPTIMUM_MISTAKES = {
    "forgot rho": (lambda w, b, rho: _rows_to(1.0, w),
                   "your rows have norm 1: the constraint is ||x|| = rho, multiply by rho."),
    "normalized the columns": (lambda w, b, rho: _rows_to(rho, w, dim=0),
                               "you divide by the norms of the columns (dim=0). Unit i's weights are row W_i of the "
                               "(H, D) weight matrix: normalize each row (dim=1)."),
    "no normalization": (lambda w, b, rho: w.clone(),
                         "you return W itself: its rows do not lie on the sphere ||x|| = rho. Divide each row by its "
                         "norm and multiply by rho."),
    "rho * W, no normalization": (lambda w, b, rho: rho * w,
                                  "you multiply W by rho but do not divide each row by its norm, so "
                                  "||x|| = rho ||W_i||, not rho."),
    "Frobenius norm": (lambda w, b, rho: rho * w / w.norm(),
                       "you divide by the norm of the whole matrix: each unit has its own optimum, normalize each "
                       "row by its own norm."),
    "minimizer": (lambda w, b, rho: _rows_to(-rho, w),
                  "your sign is flipped: -W_i / ||W_i|| is where the unit is SMALLEST (Cauchy-Schwarz: "
                  "W_i . x >= -||W_i|| ||x||)."),
    "squared norm": (lambda w, b, rho: rho * w / w.pow(2).sum(dim=1, keepdim=True),
                     "you divide by ||W_i||^2 (W_i^T W_i) instead of ||W_i|| = sqrt(W_i^T W_i): the rows do not "
                     "have norm rho."),
    "bias in the direction": (lambda w, b, rho: _rows_to(rho, w + b.view(-1, 1)),
                              "you put the bias into the direction. The bias shifts W_i . x + b_i by the same "
                              "amount for every x, so it does not move the argmax: x* = rho W_i / ||W_i||."),
}
# ``student(weight (H, D), bias (H,), rho)`` -> (H, D), row i = rho * W_i / ||W_i||.
check_first_layer_optimum = Exercise(
    "first-layer optimum", lambda weight, bias, rho: first_layer_optimum(weight, rho), _optimum_cases,
    forbidden=(first_layer_optimum,),
    mistakes=_FIRST_LAYER_OPTIMUM_MISTAKES, hint="Cauchy-Schwarz: W_i . x <= ||W_i|| ||x|| = ||W_i|| rho.")


def _off_diagonal_mean(gram):
    n = len(gram)
    return (gram.sum() - gram.diagonal().sum()) / (n * (n - 1))


def _unit_rows(x):
    return x.flatten(1) / x.flatten(1).norm(dim=1, keepdim=True)


def _agreement_cases():
    g = torch.Generator().manual_seed(11)
    base = torch.randn(1, 12, generator=g, dtype=torch.float64)
    near = base + 0.4 * torch.randn(5, 12, generator=g, dtype=torch.float64)
    mixed = torch.cat([near[:3], -near[3:]]) * torch.tensor([1.0, 2.0, 0.5, 3.0, 1.5], dtype=torch.float64).view(5, 1)
    return [(near,), (mixed,), (torch.randn(4, 1, 3, 3, generator=g, dtype=torch.float64) * 2,)]


_MEAN_PAIRWISE_COSINE_MISTAKES = {
    "diagonal included": (lambda x: (_unit_rows(x) @ _unit_rows(x).T).mean(),
                          "you average the whole n x n matrix, diagonal included: cos(x_i, x_i) = 1 "
                          "inflates the agreement (to 1/n even for unrelated optima). Average over i != j."),
    "dot products, not cosines": (lambda x: _off_diagonal_mean(x.flatten(1) @ x.flatten(1).T),
                                  "you average dot products x_i . x_j without dividing by the norms: "
                                  "normalize each row to unit length first."),
    "absolute cosines": (lambda x: _off_diagonal_mean((_unit_rows(x) @ _unit_rows(x).T).abs()),
                         "you take |cos|: x and -x are opposite optima (one maximizes where the other "
                         "minimizes), they must count as disagreeing (cos = -1)."),
}
# ``student(x (n, ...))`` -> mean of cos(x_i, x_j) over pairs i != j.
check_mean_pairwise_cosine = Exercise(
    "mean pairwise cosine", mean_pairwise_cosine, _agreement_cases, mistakes=_MEAN_PAIRWISE_COSINE_MISTAKES,
    hint="normalize the rows, take the Gram matrix, average off the diagonal.")


def predicted_angle(theta0: torch.Tensor, lr: float, w_norm: float, rho: float, k: int) -> torch.Tensor:
    """The angle to W_i after k projected steps x <- rho (x + lr W_i) / ||x + lr W_i|| on a first-layer unit.

    Write x = rho (cos t u + sin t v), u = W_i / ||W_i||, v a unit vector orthogonal to u. The step adds
    lr ||W_i|| u and leaves v alone; the projection only rescales. So the new angle is
    atan2(rho sin t, rho cos t + lr ||W_i||) = atan2(sin t, cos t + c) with c = lr ||W_i|| / rho, in the
    plane of u and v (the iterate never leaves it). ``theta0``: angles in [0, pi], any shape."""
    c = lr * w_norm / rho
    theta = theta0.clone()
    for _ in range(k):
        theta = torch.atan2(torch.sin(theta), torch.cos(theta) + c)
    return theta


def _angle_cases():
    g = torch.Generator().manual_seed(5)
    wide = torch.tensor([0.0, 0.3, 1.2, torch.pi / 2, 2.2, 2.9], dtype=torch.float64)  # 2.9: cos t + c < 0 at first
    random = torch.rand(2, 3, generator=g, dtype=torch.float64) * torch.pi
    return [(wide, 0.4, 1.7, 2.5, 1), (wide, 0.2, 3.0, 4.0, 4), (random, 1.5, 0.8, 1.3, 3),
            (wide[1:4], 0.05, 2.0, 1.6, 7)]


def _angle_mistake(c_of, k_of=lambda k: k, arctan=False):
    """A wrong recursion: ``c_of(lr, w_norm, rho)`` for c, ``k_of(k)`` steps, atan of the ratio if ``arctan``."""
    def wrong(theta0, lr, w_norm, rho, k):
        c, theta = c_of(lr, w_norm, rho), theta0.clone()
        for _ in range(max(k_of(k), 0)):
            theta = (torch.atan(torch.sin(theta) / (torch.cos(theta) + c)) if arctan
                     else torch.atan2(torch.sin(theta), torch.cos(theta) + c))
        return theta
    return wrong


_C = lambda lr, w_norm, rho: lr * w_norm / rho  # noqa: E731 (the right c, for the mistakes that keep it)
_ANGLE_MISTAKES = {
    "c without rho": (_angle_mistake(lambda lr, w_norm, rho: lr * w_norm),
                      "your step constant is lr ||W_i||: the step lr W_i has length lr ||W_i||, but x has length "
                      "rho, and the angle depends on their ratio, c = lr ||W_i|| / rho."),
    "c without the weight norm": (_angle_mistake(lambda lr, w_norm, rho: lr / rho),
                                  "your step constant is lr / rho: the gradient of W_i . x is W_i, so the step "
                                  "lr W_i has length lr ||W_i||, not lr; c = lr ||W_i|| / rho."),
    "squared weight norm": (_angle_mistake(lambda lr, w_norm, rho: lr * w_norm ** 2 / rho),
                            "your step constant has ||W_i||^2: the step is lr W_i, of length lr ||W_i||; its "
                            "component along u = W_i / ||W_i|| is lr ||W_i||, so c = lr ||W_i|| / rho."),
    "atan instead of atan2": (_angle_mistake(_C, arctan=True),
                              "you take atan(sin t / (cos t + c)): where cos t + c < 0 (a start more than 90 "
                              "degrees from W_i and a small step) the new point is still on W_i's far side and "
                              "its angle lies between 90 and 180 degrees, but atan returns a negative angle. Use "
                              "torch.atan2(sin t, cos t + c)."),
    "one step too few": (_angle_mistake(_C, k_of=lambda k: k - 1),
                         "you apply the step k - 1 times: after k steps the recursion has been applied k times "
                         "(k = 0 returns theta0)."),
    "one step too many": (_angle_mistake(_C, k_of=lambda k: k + 1),
                          "you apply the step k + 1 times: after k steps the recursion has been applied k times "
                          "(k = 0 returns theta0)."),
    "small-angle formula": (lambda theta0, lr, w_norm, rho, k: theta0 / (1 + _C(lr, w_norm, rho)) ** k,
                            "theta0 / (1 + c)^k is the recursion for small angles only (sin t ~ t, cos t ~ 1); "
                            "random starts begin near 90 degrees, where it is far off. Use the exact step "
                            "atan2(sin t, cos t + c)."),
    "no projection": (lambda theta0, lr, w_norm, rho, k: torch.atan2(torch.sin(theta0),
                                                                     torch.cos(theta0) + k * _C(lr, w_norm, rho)),
                      "that is the angle of x_0 + k lr W_i, the update without the projection: there the "
                      "component orthogonal to W_i stays rho sin(theta0) while x grows. The projection "
                      "rescales x to norm rho after every step, so apply the one-step rule k times."),
}
# ``student(theta0 (any shape), lr, w_norm, rho, k)`` -> the angles after k projected steps, same shape.
check_angle_after_steps = Exercise(
    "angle after k projected steps", predicted_angle, _angle_cases, mistakes=_ANGLE_MISTAKES,
    hint="write x = rho (cos t u + sin t v) with u = W_i / ||W_i||; the step only adds to the u component.")

register(globals())
