"""Checks for the exercises of notebook 05 (denoising autoencoders).

* :func:`check_masking_noise`: ``masking_noise(x, q)`` zeroes a random fraction ``q`` of the entries.
  The answer is random, so the check tests properties (kept entries unchanged, dropped entries 0,
  fraction dropped close to ``q``, a fresh mask per image and per call) instead of exact values.
* :func:`check_psnr`: ``psnr(x, reference, max_value)``, the mean over images of
  10 log10(max^2 / MSE), compared with :func:`aelab.metrics.psnr`.
* :func:`check_denoising_loss`: ``denoising_loss(model, x, corrupt)``, the DAE objective
  L(x, g(f(x_tilde))) on one batch, compared with the model's own loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch.nn import functional as F

from ..metrics import psnr as _psnr
from ._core import CheckResult, ExerciseFailed, _describe, call_student, check_function, not_attempted, passed

__all__ = ["check_denoising_loss", "check_masking_noise", "check_psnr"]


# --------------------------------------------------------------------------------------------
# Exercise 1: masking noise
# --------------------------------------------------------------------------------------------

def _masking_inputs(seed: int = 0) -> torch.Tensor:
    """A batch of 64 'images' (64, 1, 16, 16) whose entries are all in [0.2, 1]: none is 0 before masking."""
    g = torch.Generator().manual_seed(seed)
    return 0.2 + 0.8 * torch.rand(64, 1, 16, 16, generator=g)


def check_masking_noise(masking_noise: Callable) -> CheckResult:
    """Check a student's ``masking_noise(x, q)``: each entry set to 0 with probability ``q``.

    Recognized mistakes: scaling every entry by (1 - q) instead of zeroing some; keeping a
    fraction q instead of dropping it; dropout's rescaling of the kept entries by 1 / (1 - q);
    the same mask for every image of the batch; the same mask at every call (a seed set inside).
    """
    name = "masking_noise"
    x = _masking_inputs()
    n = x.numel()
    for q in (0.3, 0.75):
        attempted, out = call_student(name, masking_noise, (x, q))
        if not attempted:
            return not_attempted(name)
        if not isinstance(out, torch.Tensor) or out.shape != x.shape:
            raise ExerciseFailed(f"{name}: return a tensor of the input's shape {tuple(x.shape)}, "
                                 f"got {_describe(out)}.")
        out = out.detach().to(torch.float64)
        xd = x.to(torch.float64)
        if torch.allclose(out, xd * (1 - q), atol=1e-6):
            raise ExerciseFailed(
                f"{name}: with q={q} every entry was multiplied by (1 - q). That is the *expected value* of the "
                "corrupted input, not a corruption: masking noise sets each entry either to 0 (with probability q) "
                "or leaves it exactly as it was. Draw a random mask, e.g. keep = torch.rand_like(x) >= q. "
                "[recognized mistake: scales instead of zeroing]")
        dropped = out == 0
        kept = ~dropped
        if kept.any() and torch.allclose(out[kept], xd[kept] / (1 - q), rtol=1e-5, atol=1e-6):
            raise ExerciseFailed(
                f"{name}: the kept entries were divided by (1 - q) = {1 - q:g}. That is dropout's rescaling, which "
                "keeps the mean activation unchanged for a layer inside a network. A denoising autoencoder's "
                "corruption is different: the surviving pixels are left exactly as they were, and the network "
                "must learn that missing pixels read 0. [recognized mistake: dropout-style rescaling by 1/(1-q)]")
        if kept.any() and not torch.allclose(out[kept], xd[kept], atol=1e-6):
            raise ExerciseFailed(f"{name}: entries that are not set to 0 must keep their value exactly "
                                 "(multiply x by a 0/1 mask; do not add or rescale anything).")
        masks = dropped.flatten(1)
        if bool((masks == masks[:1]).all()):
            raise ExerciseFailed(
                f"{name}: every image of the batch got the same mask (the same pixels were zeroed in all "
                f"{len(x)} images). Draw the mask with the shape of the whole batch, torch.rand_like(x), not of "
                "one image: with one shared mask the network sees only one corruption pattern per batch. "
                "[recognized mistake: same mask for every image in the batch]")
        fraction = float(dropped.double().mean())
        tolerance = 6 * math.sqrt(q * (1 - q) / n) + 2 / n  # six binomial standard deviations
        if abs(fraction - q) > tolerance:
            if abs(fraction - (1 - q)) <= tolerance:
                raise ExerciseFailed(
                    f"{name}: with q={q} you set {fraction:.1%} of the entries to 0, i.e. you *kept* a fraction q "
                    f"and dropped 1 - q. q is the fraction destroyed: an entry survives when rand >= q "
                    "(or, equivalently, is zeroed when rand < q). [recognized mistake: keeps a fraction q "
                    "instead of dropping it]")
            raise ExerciseFailed(f"{name}: with q={q} you set {fraction:.1%} of the entries to 0; expected about "
                                 f"{q:.0%} (within {tolerance:.1%}).")
        attempted, again = call_student(name, masking_noise, (x, q))
        if isinstance(again, torch.Tensor) and again.shape == x.shape and bool(((again == 0) == (out == 0)).all()):
            raise ExerciseFailed(
                f"{name}: two calls zeroed exactly the same entries. The mask must be drawn afresh at every call "
                "(do not call torch.manual_seed inside the function): the autoencoder should see a new "
                "corruption of each image at every epoch. [recognized mistake: the same mask at every call]")
    attempted, out = call_student(name, masking_noise, (x, 0.0))
    if not isinstance(out, torch.Tensor) or not torch.allclose(out.detach().double(), x.double()):
        raise ExerciseFailed(f"{name}: with q=0 nothing should be masked: the output must equal the input.")
    return passed(name, "kept entries unchanged, a fresh mask per image and per call, fraction zeroed within "
                        "six standard deviations of q for q = 0.3 and 0.75, and q = 0 leaves x unchanged")


# --------------------------------------------------------------------------------------------
# Exercise 3: PSNR
# --------------------------------------------------------------------------------------------

def _psnr_cases() -> list[tuple]:
    g = torch.Generator().manual_seed(1)
    ref = torch.rand(6, 1, 8, 8, generator=g)
    noisy = (ref + 0.1 * torch.randn(6, 1, 8, 8, generator=g) * torch.linspace(0.2, 2, 6).view(6, 1, 1, 1))
    return [(noisy, ref, 1.0), (noisy * 255, ref * 255, 255.0), (ref.flatten(1) * 0.9, ref.flatten(1), 1.0)]


def _per_image_mse(x, ref):
    return (x.double() - ref.double()).pow(2).flatten(1).mean(dim=1)


_PSNR_MISTAKES = {
    "PSNR of the whole batch's MSE": (
        lambda x, ref, m=1.0: 10 * math.log10(m**2 / float(_per_image_mse(x, ref).mean())),
        "you computed one MSE over the whole batch and took the PSNR of that. PSNR is a per-image quantity "
        "(each image is one signal): compute the MSE of each image (mean over its pixels), its PSNR, and then "
        "average the PSNRs over the images. The two differ because log is not linear."),
    "sum of squared errors instead of the mean": (
        lambda x, ref, m=1.0: float((10 * torch.log10(m**2 / (x.double() - ref.double()).pow(2).flatten(1)
                                                        .sum(dim=1))).mean()),
        "you summed the squared errors over the pixels. PSNR uses the *mean* squared error per pixel, so that "
        "it does not depend on the image size."),
    "max not squared": (
        lambda x, ref, m=1.0: float((10 * torch.log10(m / _per_image_mse(x, ref))).mean()),
        "the peak value must be squared: PSNR = 10 log10(max^2 / MSE) (a power ratio). With max_value = 1 "
        "this does not show, but with pixels in [0, 255] it does."),
    "20 log10 of max^2 / MSE": (
        lambda x, ref, m=1.0: float((20 * torch.log10(m**2 / _per_image_mse(x, ref))).mean()),
        "you used 20 log10 with the MSE. It is 10 log10(max^2 / MSE) for powers, or equivalently "
        "20 log10(max / RMSE) for amplitudes; 20 log10(max^2 / MSE) counts the decibels twice."),
    "natural logarithm": (
        lambda x, ref, m=1.0: float((10 * torch.log(m**2 / _per_image_mse(x, ref))).mean()),
        "decibels use the base-10 logarithm: torch.log10, not torch.log."),
    "ratio upside down": (
        lambda x, ref, m=1.0: float((10 * torch.log10(_per_image_mse(x, ref) / m**2)).mean()),
        "the ratio is upside down: PSNR = 10 log10(max^2 / MSE) is large (good) when the error is small."),
}


def check_psnr(psnr: Callable) -> CheckResult:
    """Check a student's ``psnr(x, reference, max_value)`` against :func:`aelab.metrics.psnr`.

    Recognized mistakes: PSNR of the batch's MSE, summed instead of mean squared error, max not
    squared, 20 log10 with the MSE, natural log, ratio upside down.
    """
    return check_function("psnr", psnr, lambda x, ref, m=1.0: _psnr(x, ref, m), _psnr_cases(),
                          mistakes=_PSNR_MISTAKES, atol=1e-6, rtol=1e-6,
                          hint="PSNR = mean over images of 10 log10(max_value^2 / MSE_image), "
                               "MSE_image = mean over the image's pixels of (x - reference)^2.")


# --------------------------------------------------------------------------------------------
# Exercise 2: the denoising objective
# --------------------------------------------------------------------------------------------

class _FixedCorruption:
    """A deterministic stand-in for masking noise (the same pattern at every call), so that the
    student's loss and the reference see the same x_tilde."""

    def __init__(self, q: float = 0.4, seed: int = 3):
        self.q, self.seed = q, seed

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed)
        keep = torch.rand(x.shape, generator=g) >= self.q
        return x * keep.to(x.device)


def _loss_cases() -> list[tuple]:
    from ..models import mlp_autoencoder

    torch.manual_seed(5)
    model = mlp_autoencoder((1, 6, 6), code=8, tied=True)
    g = torch.Generator().manual_seed(7)
    x = torch.rand(10, 1, 6, 6, generator=g)
    return [(model, x, _FixedCorruption(0.4, 3)), (model, x[:4], _FixedCorruption(0.6, 11))]


def _bce_sum(logits, target):
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(1).mean()


def _reference_loss(model, x, corrupt):
    return model.reconstruction_loss(model.decoder(model.encoder(corrupt(x))), x).detach()


_LOSS_MISTAKES = {
    "loss against the noisy input": (
        lambda model, x, c: _bce_sum(model.decoder(model.encoder(c(x))), c(x)).detach(),
        "you compared the reconstruction with the *corrupted* input x_tilde. Then the best the network can do "
        "is to copy its input, holes and all: it learns nothing about the data. The target must be the clean "
        "x: L(x, g(f(x_tilde)))."),
    "no corruption (a plain autoencoder)": (
        lambda model, x, c: _bce_sum(model.decoder(model.encoder(x)), x).detach(),
        "the encoder saw the clean x: this is the ordinary autoencoder loss L(x, g(f(x))). Feed the corrupted "
        "x_tilde = corrupt(x) to the encoder, and compare the output with the clean x."),
    "averaged over pixels instead of summed": (
        lambda model, x, c: (_bce_sum(model.decoder(model.encoder(c(x))), x) / x[0].numel()).detach(),
        "your loss is the course's loss divided by the number of pixels: you averaged the binary "
        "cross-entropy over pixels (F.binary_cross_entropy's default reduction='mean'). The course sums "
        "over the pixels of an image and averages over the images of the batch."),
    "sigmoid applied twice": (
        lambda model, x, c: _bce_sum(model(c(x)), x).detach(),
        "you passed model(x_tilde), which is already a sigmoid output, to a loss that applies the sigmoid "
        "itself (binary_cross_entropy_with_logits). Use model.decoder(model.encoder(x_tilde)) for logits, or "
        "F.binary_cross_entropy on model(x_tilde)."),
}


def check_denoising_loss(denoising_loss: Callable) -> CheckResult:
    """Check a student's ``denoising_loss(model, x, corrupt)``: binary cross-entropy between the clean
    ``x`` and the reconstruction of ``corrupt(x)``, summed over pixels and averaged over images.

    Recognized mistakes: loss against the noisy input, no corruption, averaged over pixels,
    sigmoid applied twice.
    """
    def as_value(fn):
        def wrapped(model, x, corrupt):
            out = fn(model, x, corrupt)
            return out.detach() if isinstance(out, torch.Tensor) else out
        return wrapped

    return check_function("denoising_loss", as_value(denoising_loss), _reference_loss, _loss_cases(),
                          mistakes=_LOSS_MISTAKES, atol=1e-5, rtol=1e-5,
                          hint="x_tilde = corrupt(x); logits = model.decoder(model.encoder(x_tilde)); "
                               "binary cross-entropy of the logits against the clean x, summed over pixels "
                               "and averaged over the batch.")


from ._core import isolate_rng  # noqa: E402  (after the definitions it wraps)

isolate_rng(globals())
