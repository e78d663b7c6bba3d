"""Autoencoders as encoder + decoder + optional corruption + optional penalties.

Every model of the course is an :class:`Autoencoder`; the builders below make the usual
encoders and decoders. Images go in with shape (N, C, H, W) (or (N, D) for flat data) and
come out with the same shape.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .objectives import BernoulliCrossEntropy, SquaredError
from .objectives import objective as _objective
from .rng import seeded

_BUILTIN_OBJECTIVES = (BernoulliCrossEntropy, SquaredError)
_ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh, "linear": nn.Identity}


def _activation(spec) -> nn.Module:
    if isinstance(spec, nn.Module):
        return spec
    if spec is None:
        return nn.Identity()
    if spec not in _ACTIVATIONS:
        raise ValueError(f"Unknown activation {spec!r}: use one of {sorted(_ACTIVATIONS)} or an nn.Module.")
    return _ACTIVATIONS[spec]()


def _features(shape) -> int:
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if not shape or any(not isinstance(s, (int, np.integer)) or s < 1 for s in shape):
        raise ValueError(f"input shape must be positive integers, got {shape!r}.")
    return int(np.prod(shape))


def _check_sizes(sizes) -> list[int]:
    sizes = list(sizes)
    if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
        raise ValueError(f"layer sizes must be positive integers, got {sizes!r}.")
    return [int(s) for s in sizes]


def _check_code_activation(module, code: int) -> None:
    """A k-sparse code activation keeps k of the code's units: k above the code size is a build error."""
    k = getattr(module, "k", None)
    if isinstance(k, int) and k > code:
        raise ValueError(f"{type(module).__name__}(k={k}) keeps k units of a code of {code} units: "
                         f"choose k <= {code} or a larger code.")


def mlp_encoder(input_shape, code: int, hidden: Sequence[int] = (), activation="sigmoid",
                code_activation="same", *, seed: int | None = None) -> nn.Sequential:
    """Flatten, then Linear + activation layers of sizes ``hidden``, then Linear to ``code`` units.

    ``code_activation`` is the activation of the code layer (``"same"``: ``activation``; ``None``
    or ``"linear"``: none; or any module such as ``TopK(k)``). ``seed``: the initial weights are
    those of ``torch.manual_seed(seed)`` before building (None: the global generator's state).
    """
    sizes = [_features(input_shape), *_check_sizes(hidden), *_check_sizes([code])]
    layers: list[nn.Module] = [nn.Flatten()]
    with seeded(seed):
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(n_in, n_out))
            last = i == len(sizes) - 2
            layers.append(_activation(activation if not last or code_activation == "same" else code_activation))
    _check_code_activation(layers[-1], sizes[-1])
    return nn.Sequential(*[m for m in layers if not isinstance(m, nn.Identity)])


def mlp_decoder(output_shape, code: int, hidden: Sequence[int] = (), activation="sigmoid", *,
                seed: int | None = None) -> nn.Sequential:
    """Linear + activation layers from ``code`` through ``hidden`` to the output, then Unflatten.

    The last layer has no activation: :class:`Autoencoder` applies the output activation, so that
    it can use the numerically stable BCE-with-logits loss. ``seed`` as in :func:`mlp_encoder`.
    """
    with seeded(seed):
        return _mlp_decoder(output_shape, code, hidden, activation)


def _mlp_decoder(output_shape, code, hidden, activation) -> nn.Sequential:
    shape = (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
    sizes = [*_check_sizes([code]), *_check_sizes(hidden), _features(shape)]
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(_activation(activation))
    if len(shape) > 1:
        layers.append(nn.Unflatten(1, shape))
    return nn.Sequential(*[m for m in layers if not isinstance(m, nn.Identity)])


class TiedLinear(nn.Module):
    """A decoder layer whose weight is the transpose of an encoder layer's: W' = W^T."""

    def __init__(self, encoder_layer: nn.Linear):
        super().__init__()
        self.encoder_layer = [encoder_layer]  # a list, so the shared weight is not registered twice
        self.bias = nn.Parameter(torch.zeros(encoder_layer.in_features))

    @property
    def weight(self) -> torch.Tensor:
        """(D, H): the encoder layer's weight transposed (a view that shares its storage)."""
        return self.encoder_layer[0].weight.t()

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return F.linear(h, self.weight, self.bias)

    def extra_repr(self) -> str:
        layer = self.encoder_layer[0]
        return f"in_features={layer.out_features}, out_features={layer.in_features}, tied to the encoder"


def tied_decoder(encoder: nn.Sequential, output_shape) -> nn.Sequential:
    """Decoder of a one-layer encoder that reuses its weight transposed (own bias)."""
    linears = [m for m in encoder.modules() if isinstance(m, nn.Linear)]
    if len(linears) != 1:
        raise ValueError(f"tied weights need an encoder with exactly one Linear layer, got {len(linears)}.")
    shape = (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
    layers: list[nn.Module] = [TiedLinear(linears[0])]
    if len(shape) > 1:
        layers.append(nn.Unflatten(1, shape))
    return nn.Sequential(*layers)


def _conv_sizes(size: int, n: int) -> list[int]:
    sizes = [size]
    for _ in range(n):
        sizes.append((sizes[-1] + 1) // 2)  # Conv2d(kernel 3, stride 2, padding 1)
    return sizes


def conv_encoder(image_shape, code: int, channels: Sequence[int] = (16, 32), activation="relu",
                 code_activation="linear", *, seed: int | None = None) -> nn.Sequential:
    """Stride-2 3x3 convolutions with ``channels``, then Linear to ``code`` units (``seed`` as in
    :func:`mlp_encoder`)."""
    with seeded(seed):
        encoder = _conv_encoder(image_shape, code, channels, activation, code_activation)
    _check_code_activation(_activation(code_activation), code)
    return encoder


def _conv_encoder(image_shape, code, channels, activation, code_activation) -> nn.Sequential:
    c, h, w = image_shape
    channels = _check_sizes(channels)
    layers: list[nn.Module] = []
    for n_in, n_out in zip([c, *channels[:-1]], channels):
        layers += [nn.Conv2d(n_in, n_out, 3, stride=2, padding=1), _activation(activation)]
    hs, ws = _conv_sizes(h, len(channels)), _conv_sizes(w, len(channels))
    layers += [nn.Flatten(), nn.Linear(channels[-1] * hs[-1] * ws[-1], code), _activation(code_activation)]
    return nn.Sequential(*[m for m in layers if not isinstance(m, nn.Identity)])


def conv_decoder(image_shape, code: int, channels: Sequence[int] = (32, 16), activation="relu", *,
                 seed: int | None = None) -> nn.Sequential:
    """Linear from ``code``, then stride-2 transposed convolutions back to ``image_shape``."""
    with seeded(seed):
        return _conv_decoder(image_shape, code, channels, activation)


def _conv_decoder(image_shape, code, channels, activation) -> nn.Sequential:
    c, h, w = image_shape
    channels = _check_sizes(channels)
    hs, ws = _conv_sizes(h, len(channels))[::-1], _conv_sizes(w, len(channels))[::-1]
    layers: list[nn.Module] = [nn.Linear(code, channels[0] * hs[0] * ws[0]), _activation(activation),
                               nn.Unflatten(1, (channels[0], hs[0], ws[0]))]
    outs = [*channels[1:], c]
    for i, (n_in, n_out) in enumerate(zip(channels, outs)):
        pad_h, pad_w = hs[i + 1] - (2 * hs[i] - 1), ws[i + 1] - (2 * ws[i] - 1)
        layers.append(nn.ConvTranspose2d(n_in, n_out, 3, stride=2, padding=1, output_padding=(pad_h, pad_w)))
        if i < len(channels) - 1:
            layers.append(_activation(activation))
    return nn.Sequential(*[m for m in layers if not isinstance(m, nn.Identity)])


class Autoencoder(nn.Module):
    """x -> [corruption, in training only] -> encoder -> code -> decoder -> output activation.

    Args:
        encoder: module mapping inputs (N, ...) to codes (N, H).
        decoder: module mapping codes to pre-activations of the input's shape.
        output: ``"sigmoid"`` (outputs in (0, 1)) or ``"linear"``.
        loss: ``"bce"`` (needs ``output="sigmoid"``; computed from logits) or ``"mse"``;
            default: BCE for sigmoid outputs, MSE for linear ones. Either is summed over the
            pixels of an image and averaged over the batch, as in the lecture's ||x - x_hat||^2.
        objective: an object from :mod:`aelab.objectives` instead of ``output``/``loss``.
        corruption: callable ``x -> x_tilde`` applied to the encoder's input during training
            (the loss still compares with the clean x): a denoising autoencoder. aelab's
            corruptions also take ``generator=``, through which ``fit`` supplies their noise.
        penalties: callables ``(model, x, code) -> scalar`` with a ``name``, added to the loss.

    Training goes through :meth:`loss`, which calls :meth:`encode` and :meth:`decode`, so a
    subclass that overrides any of them changes what ``fit`` trains; the terms ``loss`` returns
    become the keys of the History.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, *, output: str = "sigmoid",
                 loss: str | None = None, corruption: Callable | None = None, penalties: Sequence = (),
                 objective=None):
        super().__init__()
        objective = objective if objective is not None else _objective(output, loss)
        names = [getattr(p, "name", None) for p in penalties]
        if any(not isinstance(n, str) for n in names) or len(set(names)) != len(names):
            raise ValueError(f"each penalty needs a distinct string .name, got {names}.")
        if "reconstruction" in names:
            raise ValueError("'reconstruction' is the reconstruction term's name; give the penalty another name.")
        if corruption is not None and not callable(corruption):
            raise ValueError(f"corruption must be callable x -> x_tilde, got {corruption!r}.")
        self.encoder, self.decoder = encoder, decoder
        self.objective = objective
        self.corruption, self.penalties = corruption, tuple(penalties)

    # The strings the model was built with, kept for code written against them.
    @property
    def output(self) -> str:
        return getattr(self.objective, "output", type(self.objective).__name__)

    @property
    def loss_name(self) -> str:
        return getattr(self.objective, "loss_name", type(self.objective).__name__)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Codes of shape (N, H) for inputs ``x`` (no corruption)."""
        return self.encoder(x)

    def decode(self, code: torch.Tensor, activate: bool = True) -> torch.Tensor:
        """Reconstructions for codes of shape (N, H); ``activate=False``: the decoder's
        pre-activations (logits), which the loss uses for numerical stability."""
        out = self.decoder(code)
        return self.objective.activate(out) if activate else out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of ``x`` (no corruption), same shape as ``x``."""
        return self.decode(self.encode(x))

    def corrupt(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The corrupted input the encoder sees in training: noise from ``generator`` when the
        corruption accepts one (aelab's do), else from torch's global generator."""
        if self.corruption is None:
            return x
        if generator is not None and _takes_generator(self.corruption):
            return self.corruption(x, generator=generator)
        return self.corruption(x)

    def reconstruction_loss(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Per-image loss summed over pixels, averaged over the batch; ``logits`` are pre-activations."""
        return self.objective(logits, x)

    def loss(self, x: torch.Tensor, generator: torch.Generator | None = None
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The training objective on a batch: (total, {term name: value}).

        The corruption is applied only in training mode, so ``model.eval()`` gives the clean loss.
        ``generator`` supplies the corruption's noise (``fit`` passes its own).
        """
        x_in = self.corrupt(x, generator) if self.training else x
        code = self.encode(x_in)
        terms = {"reconstruction": self.reconstruction_loss(self.decode(code, activate=False), x)}
        for penalty in self.penalties:
            terms[penalty.name] = penalty(self, x_in, code)
        return sum(terms.values()), terms

    def term_names(self) -> list[str]:
        """The names of the terms :meth:`loss` returns for this model (a subclass may add more)."""
        return ["reconstruction", *(p.name for p in self.penalties)]

    # Named parts, so that no notebook depends on where a builder put a layer.
    @property
    def first_layer(self) -> nn.Module:
        """The encoder's first Linear or convolution: the layer that sees the pixels."""
        for module in self.encoder.modules():
            if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
                return module
        raise ValueError("this encoder has no Linear or convolution layer.")

    @property
    def filters(self) -> torch.Tensor:
        """The first layer's weight: (H, D) for an MLP encoder, one row per unit, in pixel space."""
        return self.first_layer.weight

    @property
    def code_layer(self) -> nn.Linear:
        """The encoder's last Linear: the layer whose outputs, after the code activation, are the code."""
        linears = [m for m in self.encoder.modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise ValueError("this encoder has no Linear layer.")
        return linears[-1]

    @property
    def output_layer(self) -> nn.Module:
        """The decoder's last Linear, tied Linear or convolution: the layer that produces the pixels.
        Its ``weight`` is (D, H) for an MLP decoder, one column per code unit."""
        layers = [m for m in self.decoder.modules()
                  if isinstance(m, (nn.Linear, TiedLinear, nn.modules.conv._ConvNd))]
        if not layers:
            raise ValueError("this decoder has no Linear or convolution layer.")
        return layers[-1]

    @property
    def first_layer_output(self) -> nn.Sequential:
        """x -> the first layer's activations (after its activation function), shape (N, H1):
        the encoder up to there. Shares its modules with the encoder."""
        if not isinstance(self.encoder, nn.Sequential):
            raise ValueError("first_layer_output needs an nn.Sequential encoder.")
        index = next(i for i, m in enumerate(self.encoder) if m is self.first_layer)
        following = self.encoder[index + 1] if index + 1 < len(self.encoder) else None
        has_activation = following is not None and not isinstance(
            following, (nn.Linear, nn.modules.conv._ConvNd, nn.Flatten, nn.Unflatten))
        return self.encoder[:index + 2] if has_activation else self.encoder[:index + 1]

    @property
    def code_pre_activation(self) -> nn.Sequential:
        """x -> the code layer's pre-activation z = W h + b (the encoder without its code activation).
        Shares its modules with the encoder."""
        if not isinstance(self.encoder, nn.Sequential):
            raise ValueError("code_pre_activation needs an nn.Sequential encoder.")
        index = max(i for i, m in enumerate(self.encoder) if m is self.code_layer)
        return self.encoder[:index + 1]

    def extra_repr(self) -> str:
        parts = [f"output={self.output!r}", f"loss={self.loss_name!r}"]
        if not isinstance(self.objective, (_BUILTIN_OBJECTIVES)):
            parts.append(f"objective={self.objective!r}")
        if self.corruption is not None:
            parts.append(f"corruption={self.corruption!r}")
        if self.penalties:
            parts.append(f"penalties={list(self.penalties)!r}")
        return ", ".join(parts)


def _takes_generator(fn) -> bool:
    try:
        return "generator" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def mlp_autoencoder(input_shape, code: int, hidden: Sequence[int] = (), *, activation="sigmoid",
                    code_activation="same", tied: bool = False, output: str = "sigmoid",
                    loss: str | None = None, corruption: Callable | None = None,
                    penalties: Sequence = (), seed: int | None = None) -> Autoencoder:
    """The course's workhorse: an MLP autoencoder with mirrored hidden layers.

    ``tied=True`` (one-layer encoders only) makes the decoder weight the encoder weight transposed.
    ``seed``: the initial weights are exactly those of ``torch.manual_seed(seed)`` before building;
    the global generator is left as it was (None: draw from it, PyTorch's usual behaviour).
    """
    with seeded(seed):
        encoder = mlp_encoder(input_shape, code, hidden, activation, code_activation)
        if tied:
            if hidden:
                raise ValueError("tied=True is supported for one-layer autoencoders (hidden=()).")
            decoder = tied_decoder(encoder, input_shape)
        else:
            decoder = mlp_decoder(input_shape, code, tuple(hidden)[::-1], activation)
    return Autoencoder(encoder, decoder, output=output, loss=loss, corruption=corruption, penalties=penalties)


def linear_autoencoder(input_shape, code: int, *, tied: bool = False, init: str = "balanced",
                       seed: int | None = None) -> Autoencoder:
    """h = W x + b, x_hat = W' h + b' with squared error: the autoencoder that learns PCA's subspace.

    ``init="balanced"`` (untied only) starts the decoder at the encoder's transpose, W' = W^T, and
    trains the two separately. The loss depends only on W'W and the gradient of each factor is
    scaled by the other, so PyTorch's default start (W at scale 1/sqrt(D), W' at 1/sqrt(code))
    gives one factor huge steps and the other tiny ones: SGD diverges and Adam crawls. A balanced
    start is "balanced" in the sense of Arora, Cohen and Hazan (2018): W W^T = W'^T W', which gradient
    flow conserves (notebook 02). ``init="pytorch"`` keeps PyTorch's default.
    ``seed`` as in :func:`mlp_autoencoder`.
    """
    if init not in ("balanced", "pytorch"):
        raise ValueError(f"init must be 'balanced' or 'pytorch', got {init!r}.")
    model = mlp_autoencoder(input_shape, code, activation="linear", code_activation="linear",
                            tied=tied, output="linear", loss="mse", seed=seed)
    if init == "balanced" and not tied:
        with torch.no_grad():
            model.decoder[0].weight.copy_(model.filters.T)
    return model
