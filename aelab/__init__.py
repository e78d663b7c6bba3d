"""aelab: the helper package of the autoencoder course.

An autoencoder here is an encoder, a decoder, an optional corruption of the input and optional
penalties, trained by one short loop::

    import aelab
    data = aelab.load("auto", n_train=10_000)
    model = aelab.mlp_autoencoder(data.image_shape, code=64,
                 penalties=[aelab.KLSparsity(rho=0.05, beta=3)])
    history = aelab.fit(model, data, epochs=20, cache="sparse_demo")
"""

__version__ = "0.1.0"

from . import config
from .activations import AnnealK, TopK, anneal_k, top_k
from .corruptions import GaussianNoise, MaskingNoise, SaltAndPepper, gaussian_noise, masking_noise
from .data import Dataset, DatasetNotFoundError, load
from .device import describe_device, pick_device
from .models import (
    Autoencoder,
    conv_decoder,
    conv_encoder,
    linear_autoencoder,
    mlp_autoencoder,
    mlp_decoder,
    mlp_encoder,
    tied_decoder,
)
from .objectives import BernoulliCrossEntropy, SquaredError
from .penalties import (
    Contractive,
    KLSparsity,
    L1Code,
    contractive_penalty,
    kl_divergence,
    kl_sparsity_penalty,
    l1_code_penalty,
)
from .rng import seeded
from .train import (
    CacheKeyError,
    Checkpoint,
    History,
    TrainingDivergedError,
    evaluate,
    fit,
    predict,
    seed_everything,
)

__all__ = [
    "AnnealK", "BernoulliCrossEntropy", "CacheKeyError", "Checkpoint", "SquaredError", "config", "seeded",
    "Autoencoder", "Contractive", "Dataset", "DatasetNotFoundError", "GaussianNoise", "History",
    "KLSparsity", "L1Code", "MaskingNoise", "SaltAndPepper", "TopK", "TrainingDivergedError",
    "anneal_k", "contractive_penalty", "conv_decoder", "conv_encoder", "describe_device",
    "evaluate", "fit", "gaussian_noise", "kl_divergence", "kl_sparsity_penalty", "l1_code_penalty",
    "linear_autoencoder", "load", "masking_noise", "mlp_autoencoder", "mlp_decoder", "mlp_encoder",
    "pick_device", "predict", "seed_everything", "tied_decoder", "top_k",
]
