"""Checks for the exercises of notebook 05 (denoising autoencoders): masking noise (a random answer,
so its properties are checked: kept entries unchanged, dropped entries 0, the fraction dropped close
to q, a fresh mask per image and per call), the denoising loss, and PSNR."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from ..corruptions import masking_noise
from ..metrics import psnr
from ._core import Exercise, register


def _masking_cases():
    """A batch of 64 'images' (64, 1, 16, 16) with every entry in [0.2, 1]: none is 0 before masking."""
    x = 0.2 + 0.8 * torch.rand(64, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    return [(x, 0.3), (x, 0.75), (x.flatten(1), 0.5), (x, 0.0)]  # "any shape": flat images too


_MASKING_MISTAKES = {
    "scales instead of zeroing": (
        lambda x, q: x * (1 - q),
        "every entry was multiplied by (1 - q). That is the *expected value* of the corrupted input, not a "
        "corruption: masking noise sets each entry either to 0 (with probability q) or leaves it exactly as it was. "
        "Draw a random mask, e.g. keep = torch.rand_like(x) >= q."),
    "dropout-style rescaling by 1/(1-q)": (
        lambda x, q: x * (torch.rand_like(x) >= q) / (1 - q),
        "the kept entries were divided by (1 - q). That is dropout's rescaling, which keeps the mean activation of "
        "a layer inside a network unchanged. A denoising autoencoder's corruption leaves the surviving pixels "
        "exactly as they were, and the network must learn that missing pixels read 0."),
    "same mask for every image in the batch": (
        lambda x, q: x * (torch.rand_like(x[:1]) >= q),
        "every image of the batch got the same mask (the same pixels were zeroed in all images). Draw the mask "
        "with the shape of the whole batch, torch.rand_like(x), not of one image: with one shared mask the network "
        "sees only one corruption pattern per batch."),
    "keeps a fraction q instead of dropping it": (
        lambda x, q: x * (torch.rand_like(x) < q),
        "you *kept* a fraction q of the entries and dropped 1 - q. q is the fraction destroyed: an entry survives "
        "when rand >= q (or, equivalently, is zeroed when rand < q)."),
    "the same mask at every call": (
        lambda x, q: x * (torch.rand(x.shape, generator=torch.Generator().manual_seed(0)) >= q),
        "two calls zeroed exactly the same entries. The mask must be drawn afresh at every call (do not seed a "
        "generator or call torch.manual_seed inside the function): the autoencoder should see a new corruption "
        "of each image at every epoch."),
}


def _named(label):
    return f"{_MASKING_MISTAKES[label][1]}\n  [recognized mistake: {label}]"


def _is_masking(got, expected, case):
    x, q = case
    out, xd = got.detach().double(), x.double()
    kept = out != 0
    if q == 0:
        return None if torch.equal(out, xd) else "with q = 0 nothing is masked: the output must equal the input"
    if torch.allclose(out, xd * (1 - q), atol=1e-6):
        return _named("scales instead of zeroing")
    if kept.any() and torch.allclose(out[kept], xd[kept] / (1 - q), rtol=1e-5, atol=1e-6):
        return _named("dropout-style rescaling by 1/(1-q)")
    if kept.any() and not torch.equal(out[kept], xd[kept]):
        return ("entries that are not set to 0 must keep their value exactly (multiply x by a 0/1 mask; do not add "
                "or rescale anything)")
    masks = (~kept).flatten(1)
    if bool((masks == masks[:1]).all()):
        return _named("same mask for every image in the batch")
    fraction, n = float((~kept).double().mean()), x.numel()
    tolerance = 6 * math.sqrt(q * (1 - q) / n) + 2 / n  # six binomial standard deviations
    if abs(fraction - (1 - q)) <= tolerance < abs(fraction - q):
        return f"with q={q} you zeroed {fraction:.1%}: " + _named("keeps a fraction q instead of dropping it")
    if abs(fraction - q) > tolerance:
        return f"with q={q} you set {fraction:.1%} of the entries to 0; expected about {q:.0%} (within {tolerance:.1%})"
    return None


def _fresh_per_call(call, case, got):
    x, q = case
    if q > 0 and bool(((call(x, q) == 0) == (got == 0)).all()):
        return _named("the same mask at every call")
    return None


check_masking_noise = Exercise(
    "masking_noise", masking_noise, _masking_cases, compare=_is_masking, properties=(_fresh_per_call,),
    mistakes=_MASKING_MISTAKES,  # named by _is_masking: a random answer is recognized by its properties
    passed="kept entries unchanged, a fresh mask per image and per call, the fraction zeroed within six "
           "standard deviations of q for q = 0.3, 0.5 and 0.75 (images and flat vectors), and q = 0 leaves x "
           "unchanged")


def _psnr_cases():
    g = torch.Generator().manual_seed(1)
    ref = torch.rand(6, 1, 8, 8, generator=g)
    noisy = ref + 0.1 * torch.randn(6, 1, 8, 8, generator=g) * torch.linspace(0.2, 2, 6).view(6, 1, 1, 1)
    return [(noisy, ref, 1.0), (noisy * 255, ref * 255, 255.0), (ref.flatten(1) * 0.9, ref.flatten(1), 1.0)]


def _mse(x, ref):
    return (x.double() - ref.double()).pow(2).flatten(1).mean(dim=1)


check_psnr = Exercise(
    "psnr", psnr, _psnr_cases, atol=1e-6,
    mistakes={
        "PSNR of the whole batch's MSE": (
            lambda x, ref, m=1.0: 10 * math.log10(m**2 / float(_mse(x, ref).mean())),
            "you computed one MSE over the whole batch and took the PSNR of that. PSNR is a per-image quantity "
            "(each image is one signal): compute the MSE of each image (mean over its pixels), its PSNR, and then "
            "average the PSNRs over the images. The two differ because log is not linear."),
        "sum of squared errors instead of the mean": (
            lambda x, ref, m=1.0: float((10 * torch.log10(m**2 / (x.double() - ref.double()).pow(2).flatten(1)
                                                            .sum(dim=1))).mean()),
            "you summed the squared errors over the pixels. PSNR uses the *mean* squared error per pixel, so that "
            "it does not depend on the image size."),
        "max not squared": (
            lambda x, ref, m=1.0: float((10 * torch.log10(m / _mse(x, ref))).mean()),
            "the peak value must be squared: PSNR = 10 log10(max^2 / MSE) (a power ratio). With max_value = 1 "
            "this does not show, but with pixels in [0, 255] it does."),
        "20 log10 of max^2 / MSE": (
            lambda x, ref, m=1.0: float((20 * torch.log10(m**2 / _mse(x, ref))).mean()),
            "you used 20 log10 with the MSE. It is 10 log10(max^2 / MSE) for powers, or equivalently "
            "20 log10(max / RMSE) for amplitudes; 20 log10(max^2 / MSE) counts the decibels twice."),
        "natural logarithm": (
            lambda x, ref, m=1.0: float((10 * torch.log(m**2 / _mse(x, ref))).mean()),
            "decibels use the base-10 logarithm: torch.log10, not torch.log."),
        "ratio upside down": (
            lambda x, ref, m=1.0: float((10 * torch.log10(_mse(x, ref) / m**2)).mean()),
            "the ratio is upside down: PSNR = 10 log10(max^2 / MSE) is large (good) when the error is small."),
    },
    hint="PSNR = mean over images of 10 log10(max_value^2 / MSE_image), MSE_image = mean over the image's pixels "
         "of (x - reference)^2.")


class _FixedCorruption:
    """A deterministic stand-in for masking noise (the same pattern at every call), so that the
    student's loss and the reference see the same x_tilde."""

    def __init__(self, q: float = 0.4, seed: int = 3):
        self.q, self.seed = q, seed

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        keep = torch.rand(x.shape, generator=torch.Generator().manual_seed(self.seed)) >= self.q
        return x * keep.to(x.device)


def _loss_cases():
    from ..models import mlp_autoencoder

    torch.manual_seed(5)
    model = mlp_autoencoder((1, 6, 6), code=8, tied=True)
    x = torch.rand(10, 1, 6, 6, generator=torch.Generator().manual_seed(7))
    return [(model, x, _FixedCorruption(0.4, 3)), (model, x[:4], _FixedCorruption(0.6, 11))]


def _bce_sum(logits, target):
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(1).mean()


check_denoising_loss = Exercise(
    "denoising_loss", lambda model, x, c: model.reconstruction_loss(model.decoder(model.encoder(c(x))), x),
    _loss_cases, atol=1e-5, rtol=1e-5, gradient=(),  # a loss is trained through
    mistakes={
        "loss against the noisy input": (
            lambda model, x, c: _bce_sum(model.decoder(model.encoder(c(x))), c(x)),
            "you compared the reconstruction with the *corrupted* input x_tilde. Then the best the network can do "
            "is to copy its input, holes and all: it learns nothing about the data. The target must be the clean "
            "x: L(x, g(f(x_tilde)))."),
        "no corruption (a plain autoencoder)": (
            lambda model, x, c: _bce_sum(model.decoder(model.encoder(x)), x),
            "the encoder saw the clean x: this is the ordinary autoencoder loss L(x, g(f(x))). Feed the corrupted "
            "x_tilde = corrupt(x) to the encoder, and compare the output with the clean x."),
        "averaged over pixels instead of summed": (
            lambda model, x, c: _bce_sum(model.decoder(model.encoder(c(x))), x) / x[0].numel(),
            "your loss is the course's loss divided by the number of pixels: you averaged the binary cross-entropy "
            "over pixels (F.binary_cross_entropy's default reduction='mean'). The course sums over the pixels of an "
            "image and averages over the images of the batch."),
        "sigmoid applied twice": (
            lambda model, x, c: _bce_sum(model(c(x)), x),
            "you passed model(x_tilde), which is already a sigmoid output, to a loss that applies the sigmoid "
            "itself (binary_cross_entropy_with_logits). Use model.decoder(model.encoder(x_tilde)) for logits, or "
            "F.binary_cross_entropy on model(x_tilde)."),
    },
    hint="x_tilde = corrupt(x); logits = model.decoder(model.encoder(x_tilde)); binary cross-entropy of the logits "
         "against the clean x, summed over pixels and averaged over the batch.")


def masked_psnr_prediction(x, q):
    """The expected-error prediction of the PSNR of x masked with fraction q: each image's squared
    error is q ||x||^2 on average, its MSE that divided by the d pixels, its PSNR 10 log10(1 / MSE);
    the mean over the images of those PSNRs (pixels in [0, 1], so max = 1)."""
    flat = x.double().flatten(1)
    return float((10 * torch.log10(flat.shape[1] / (q * flat.pow(2).sum(dim=1)))).mean())


def _masked_psnr_cases():
    """Images with different amounts of ink (so per-image and pooled MSEs differ) and grey values in
    (0, 1) (so x and x^2 differ), at several q (so q and 1 - q differ)."""
    g = torch.Generator().manual_seed(4)
    ink = torch.rand(8, 1, 12, 12, generator=g) < torch.linspace(0.1, 0.6, 8).view(8, 1, 1, 1)
    x = ink * (0.2 + 0.8 * torch.rand(8, 1, 12, 12, generator=g))
    return [(x, 0.25), (x, 0.5), (x.flatten(1), 0.1), (x[:3], 0.8)]


def _flat(x):
    return x.double().flatten(1)


def masked_psnr_second_order(x, q):
    """How far the mean PSNR of x masked with fraction q lies above the prediction from each image's
    expected error (exercise 4), to second order (the delta method): an image's squared error
    S = sum_i (1 - m_i) x_i^2 has mean q sum x^2 and variance q (1 - q) sum x^4, and
    E[-10 log10 S] = -10 log10 E[S] + (10 / ln 10) Var(S) / (2 E[S]^2) + higher orders.
    The mean over the images, in dB."""
    flat = x.double().flatten(1)
    relative_var = (1 - q) * flat.pow(4).sum(dim=1) / (q * flat.pow(2).sum(dim=1).pow(2))
    return float((10 / math.log(10) * relative_var / 2).mean())


check_masked_psnr = Exercise(
    "masked_psnr", masked_psnr_prediction, _masked_psnr_cases, atol=1e-6, rtol=1e-6,
    mistakes={
        "1 - q instead of q": (
            lambda x, q: float((10 * torch.log10(_flat(x).shape[1] / ((1 - q) * _flat(x).pow(2).sum(1)))).mean()),
            "you used the fraction of pixels that *survive*, 1 - q. The error comes from the masked pixels: a "
            "pixel is set to 0 with probability q, and only then is it wrong (by x_i)."),
        "squares forgotten": (
            lambda x, q: float((10 * torch.log10(_flat(x).shape[1] / (q * _flat(x).sum(1)))).mean()),
            "a masked pixel is wrong by x_i, so it adds x_i^2 to the squared error: the expected error is "
            "q * sum_i x_i^2, not q * sum_i x_i (the two agree only for pixels that are exactly 0 or 1)."),
        "every pixel treated as ink": (
            lambda x, q: float(10 * math.log10(1 / q)),
            "your answer does not depend on the image: you assumed every masked pixel is wrong by 1. A masked "
            "pixel is wrong by its value x_i, which is 0 on the background: only the ink counts."),
        "sum instead of mean over the pixels": (
            lambda x, q: float((10 * torch.log10(1 / (q * _flat(x).pow(2).sum(1)))).mean()),
            "PSNR uses the *mean* squared error per pixel: divide the image's expected squared error by its "
            "number of pixels d."),
        "PSNR of the pooled MSE": (
            lambda x, q: float(10 * torch.log10(1 / (q * _flat(x).pow(2).mean(1)).mean())),
            "you averaged the MSE over the images and took one PSNR of that. The course's PSNR (exercise 3) is "
            "the mean over images of each image's PSNR, and log is not linear: images with little ink have a "
            "small error and a large PSNR, which the pooled version hides."),
        "20 log10": (
            lambda x, q: float((20 * torch.log10(_flat(x).shape[1] / (q * _flat(x).pow(2).sum(1)))).mean()),
            "PSNR is 10 log10(max^2 / MSE): the MSE is already a power (a squared quantity), so the factor is 10."),
    },
    hint="per image: expected MSE = q * sum_i x_i^2 / d; PSNR = 10 log10(1 / expected MSE); then the mean over "
         "the images.")

register(globals())
