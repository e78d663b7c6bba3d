"""Checks for the exercises of notebook 02 (the linear autoencoder learns PCA's subspace)."""

from __future__ import annotations

import torch

from ._core import CheckResult, ExerciseFailed, _close, call_student, not_attempted, passed


def _grad_cases():
    g = torch.Generator().manual_seed(1)
    out = []
    for n, d, k in ((20, 6, 2), (15, 5, 3)):
        x = torch.randn(n, d, generator=g, dtype=torch.float64)
        out.append((x - x.mean(0), torch.randn(k, d, generator=g, dtype=torch.float64),
                    torch.randn(d, k, generator=g, dtype=torch.float64)))
    return out


def autograd_gradients(x, w, w_dec):
    """Reference: gradients of L = 1/N sum_n ||x_n - W' W x_n||^2 by autograd, float64 on the CPU."""
    w = w.detach().clone().requires_grad_(True)
    w_dec = w_dec.detach().clone().requires_grad_(True)
    loss = (x - x @ w.T @ w_dec.T).pow(2).sum(1).mean()
    gw, gwd = torch.autograd.grad(loss, (w, w_dec))
    return gw, gwd


def check_linear_ae_gradients(student) -> CheckResult:
    """Exercise: ``linear_ae_gradients(X, W, W_dec)`` -> (dL/dW (k, D), dL/dW_dec (D, k)) for
    L = 1/N sum_n ||x_n - W_dec W x_n||^2, compared with autograd in float64."""
    name = "linear_ae_gradients"
    for i, (x, w, wd) in enumerate(_grad_cases()):
        ok, got = call_student(name, student, [x, w, wd])
        if not ok:
            return not_attempted(name)
        if not isinstance(got, (tuple, list)) or len(got) != 2 or not all(isinstance(t, torch.Tensor) for t in got):
            raise ExerciseFailed(f"{name}: return a pair of tensors (dW, dW_dec), got {type(got).__name__}.")
        gw, gwd = autograd_gradients(x, w, wd)
        for label, mine, ref, shape_name in (("dW", got[0], gw, "W (k, D)"), ("dW_dec", got[1], gwd, "W_dec (D, k)")):
            if mine.shape != ref.shape:
                if mine.shape == ref.T.shape:
                    hint = (" and its transpose is right: the gradient of a matrix has the matrix's shape"
                            if _close(mine.T, ref, 1e-8, 1e-6) else "")
                    raise ExerciseFailed(f"{name}: {label} has shape {tuple(mine.shape)}, the transpose of {shape_name}"
                                         f"{hint}. [recognized mistake: transposed gradient]")
                raise ExerciseFailed(f"{name}: {label} must have the shape of {shape_name}, {tuple(ref.shape)}; "
                                     f"got {tuple(mine.shape)}.")
            if _close(mine, ref, 1e-8, 1e-6):
                continue
            if _close(mine, ref / 2, 1e-8, 1e-6):
                raise ExerciseFailed(f"{name}: {label} is half the true gradient. The derivative of ||r||^2 is 2 r: "
                                     "keep the factor 2. [recognized mistake: missing factor 2]")
            if _close(mine, ref * len(x), 1e-8, 1e-6) or _close(mine, ref * len(x) / 2, 1e-8, 1e-6):
                raise ExerciseFailed(f"{name}: {label} is N times too large: the loss is the MEAN over the N samples, "
                                     "so divide by N. [recognized mistake: sum instead of mean]")
            if _close(mine, -ref, 1e-8, 1e-6):
                raise ExerciseFailed(f"{name}: {label} has the wrong sign. With r = x_hat - x, dL/dx_hat = +2r/N; "
                                     "you used x - x_hat. [recognized mistake: sign]")
            if mine.shape[0] == mine.shape[1] and _close(mine.T, ref, 1e-8, 1e-6):
                raise ExerciseFailed(f"{name}: {label} is the transpose of the gradient. "
                                     "[recognized mistake: transposed gradient]")
            diff = float((mine - ref).abs().max())
            raise ExerciseFailed(f"{name}: {label} differs from autograd by up to {diff:.3g} on test input {i + 1}. "
                                 "Hint: with H = X W^T and R = H W_dec^T - X, dL/dW_dec = 2/N R^T H and "
                                 "dL/dW = 2/N W_dec^T R^T X.")
    return passed(name, "both gradients match autograd (float64, CPU) on 2 test inputs")


def _angle_cases():
    g = torch.Generator().manual_seed(2)
    return [(torch.randn(8, 3, generator=g, dtype=torch.float64) * torch.tensor([1.0, 5.0, 0.2], dtype=torch.float64),
             torch.randn(8, 3, generator=g, dtype=torch.float64)),
            (torch.randn(6, 2, generator=g, dtype=torch.float64) * 3,
             torch.randn(6, 2, generator=g, dtype=torch.float64))]


def _angles(a, b, orthonormalize=True, degrees=True):
    if orthonormalize:
        a, b = torch.linalg.qr(a)[0], torch.linalg.qr(b)[0]
    c = torch.linalg.svdvals(a.T @ b).clamp(-1, 1)
    out = torch.arccos(c)
    return torch.rad2deg(out) if degrees else out


def check_principal_angles(student) -> CheckResult:
    """Exercise: ``principal_angles(A, B)`` -> angles in degrees (smallest first) between the column
    spaces of A (D, k) and B (D, k)."""
    name = "principal_angles"
    for i, (a, b) in enumerate(_angle_cases()):
        ok, got = call_student(name, student, [a, b])
        if not ok:
            return not_attempted(name)
        ref = _angles(a, b)
        if not isinstance(got, torch.Tensor) or got.shape != ref.shape:
            raise ExerciseFailed(f"{name}: return a tensor of {len(ref)} angles, got "
                                 f"{tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__}.")
        got = got.double()
        if _close(got, ref, 1e-6, 1e-6):
            continue
        if _close(got.sort().values, ref, 1e-6, 1e-6):
            continue  # any order of the same angles is fine
        if _close(got.sort().values, _angles(a, b, degrees=False).sort().values, 1e-6, 1e-6):
            raise ExerciseFailed(f"{name}: these are radians; return degrees (torch.rad2deg). "
                                 "[recognized mistake: radians]")
        wrong = _angles(a, b, orthonormalize=False)
        if _close(got.sort().values, wrong.sort().values, 1e-6, 1e-6):
            raise ExerciseFailed(f"{name}: the singular values of A^T B are cosines only when A and B have orthonormal "
                                 "columns. Orthonormalize first (torch.linalg.qr). [recognized mistake: no "
                                 "orthonormalization]")
        diff = float((got.sort().values - ref).abs().max())
        raise ExerciseFailed(f"{name}: wrong angles on test input {i + 1} (up to {diff:.3g} degrees off). Hint: "
                             "Q_A, Q_B from QR; cosines = singular values of Q_A^T Q_B; arccos; degrees.")
    return passed(name, "matches the principal angles on 2 test inputs")


from ._core import isolate_rng  # noqa: E402  (after the definitions it wraps)

isolate_rng(globals())
