"""``fit``: the one training loop of the course, and ``History``, what it returns.

The loop is short on purpose (see ``_train_one_epoch``): the data already lives on the device,
each epoch draws one random permutation and slices mini-batches by index, and the per-batch
losses are summed on the device and read back once per epoch, so the GPU never waits on Python.
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from . import cache as _cache
from .data import Dataset
from .device import pick_device


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite; the model was reset to its last good weights."""


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's random generators (CPU and all GPUs) in one call."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}.")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))


@dataclass
class History:
    """Per-epoch means of every loss term on the training and validation sets.

    ``train["loss"]`` is the total objective; the other keys are its terms
    (``"reconstruction"`` and one per penalty). ``val`` has the same keys, computed without
    the corruption. ``interrupted`` is True when Ctrl-C stopped training early.
    """

    train: dict[str, list[float]] = field(default_factory=dict)
    val: dict[str, list[float]] = field(default_factory=dict)
    epochs: int = 0
    interrupted: bool = False
    from_cache: bool = False
    seconds: float = 0.0
    device: str = "cpu"

    @property
    def epochs_done(self) -> int:
        return len(self.train.get("loss", []))

    @property
    def complete(self) -> bool:
        return self.epochs_done == self.epochs and not self.interrupted

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> History:
        return cls(**d)

    def plot(self, ax=None, terms: Sequence[str] | None = None, title: str | None = None):
        """Loss curves: one line per term, training solid, validation dashed. Returns the axes."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(5, 3.2))[1]
        terms = list(terms or self.train)
        epochs = range(1, self.epochs_done + 1)
        for i, term in enumerate(terms):
            color = f"C{i}"
            ax.plot(epochs, self.train[term], color=color, label=f"{term} (train)")
            if self.val.get(term):
                ax.plot(epochs, self.val[term], color=color, linestyle="--", label=f"{term} (validation)")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss per image")
        ax.set_title(title or "Training history" + (" (interrupted)" if self.interrupted else ""))
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
        return ax

    def __repr__(self) -> str:
        if not self.epochs_done:
            return "History(no epochs)"
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.train.items())
        val = f"; val loss={self.val['loss'][-1]:.4g}" if self.val.get("loss") else ""
        state = "from cache" if self.from_cache else f"{self.seconds:.1f}s on {self.device}"
        flag = ", INTERRUPTED" if self.interrupted else ""
        return f"History({self.epochs_done}/{self.epochs} epochs, {state}{flag}: {last}{val})"


def _split(data) -> tuple[torch.Tensor, torch.Tensor | None, str]:
    if isinstance(data, Dataset):
        return data.x_train, data.x_val, data.name
    if isinstance(data, torch.Tensor):
        return data, None, "tensor"
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        return data[0], data[1], "tensors"
    raise TypeError("data must be an aelab Dataset, a tensor of inputs, or (x_train, x_val); "
                    f"got {type(data).__name__}.")


def _validate_inputs(model: nn.Module, x: torch.Tensor, label: str) -> None:
    if not torch.is_floating_point(x):
        raise TypeError(f"{label} must be a floating-point tensor, got dtype {x.dtype}. "
                        "Use x.float() / 255 for images.")
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"{label} must have shape (N, ...) with N > 0, got {tuple(x.shape)}.")
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"{label} contains {bad} NaN or infinite values; clean the data before training.")
    if getattr(model, "loss_name", None) == "bce" and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"{label} has values in [{x.min():.3g}, {x.max():.3g}] but binary cross-entropy needs "
                         "targets in [0, 1]. Scale the images to [0, 1] or use loss='mse'.")


def _check_positive(name: str, value, integer: bool) -> None:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) if integer else \
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value <= 0:
        kind = "a positive integer" if integer else "a positive finite number"
        raise ValueError(f"{name} must be {kind}, got {value!r}.")


def _probe_model(model: nn.Module, x: torch.Tensor) -> None:
    """Run two samples through the model so a shape mismatch is reported before training."""
    try:
        with torch.no_grad():
            out = model(x[:2])
    except Exception as error:  # noqa: BLE001 - re-raised with the shapes that explain it
        raise ValueError(f"The model cannot process inputs of shape {tuple(x.shape[1:])}: {error}. "
                         "Build it with the dataset's image_shape, e.g. mlp_autoencoder(data.image_shape, ...)."
                         ) from error
    if out.shape != x[:2].shape:
        raise ValueError(f"The model maps inputs of shape {tuple(x.shape[1:])} to {tuple(out.shape[1:])}; "
                         "an autoencoder's output must have its input's shape.")


def _hook_name(hook: Callable) -> str:
    return getattr(hook, "__qualname__", repr(hook))


def _config(model, x, x_val, dataset_name, settings) -> dict:
    from . import __version__

    return {
        "aelab": __version__,
        "model": repr(model),
        "initial_weights": _cache.tensor_digest(*model.state_dict().values()),
        "data": {"name": dataset_name, "train": _cache.tensor_digest(x),
                 "val": _cache.tensor_digest(x_val) if x_val is not None else None},
        "fit": settings,
    }


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, batch_size: int = 4096) -> dict[str, float]:
    """Mean of each loss term over ``x`` (no corruption), as floats. ``x`` may live anywhere."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    sums = None
    for i in range(0, len(x), batch_size):
        xb = x[i:i + batch_size].to(device)
        total, terms = model.loss(xb)
        values = torch.stack([total, *terms.values()]) * len(xb)
        sums = values if sums is None else sums + values
    model.train(was_training)
    return dict(zip(["loss", *terms], (sums / len(x)).tolist()))


@torch.no_grad()
def predict(fn: Callable, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Apply a model or one of its methods (``model``, ``model.encode``, ``model.decode``) to ``x``
    in eval mode, batch by batch on the model's device; the result is returned on the CPU."""
    module = fn if isinstance(fn, nn.Module) else getattr(fn, "__self__", None)
    if not isinstance(module, nn.Module):
        raise TypeError("predict needs a model or a bound method of one, e.g. predict(model.encode, x).")
    device = next(module.parameters()).device
    was_training = module.training
    module.eval()
    out = torch.cat([fn(x[i:i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)])
    module.train(was_training)
    return out


def _make_optimizer(name: str, model: nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """Adam or SGD, fused where the device supports it: the unfused versions read their step
    counter back with .item() on every step, which on a GPU is a sync per batch."""
    cls, extra = (torch.optim.Adam, {}) if name == "adam" else (torch.optim.SGD, {"momentum": 0.9})
    try:
        return cls(model.parameters(), lr=lr, weight_decay=weight_decay, fused=True, **extra)
    except (RuntimeError, TypeError, ValueError):
        return cls(model.parameters(), lr=lr, weight_decay=weight_decay, **extra)


def _train_one_epoch(model, optimizer, x, batch_size, generator, autocast) -> torch.Tensor:
    """One pass over ``x`` in random mini-batches; returns the summed terms (not yet averaged)."""
    model.train()
    order = torch.randperm(len(x), generator=generator).to(x.device)
    sums = None
    for start in range(0, len(x), batch_size):
        xb = x[order[start:start + batch_size]]
        with autocast():
            total, terms = model.loss(xb)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        batch = torch.stack([total, *terms.values()]).detach() * len(xb)
        sums = batch if sums is None else sums + batch
    return sums


class _Progress:
    """A tqdm bar in an interactive session, a few plain lines in CI or a log."""

    def __init__(self, mode, epochs: int, label: str):
        if mode == "auto":
            mode = "lines" if (os.environ.get("CI") or not _interactive()) else "bar"
        self.mode, self.epochs, self.label, self.bar = mode, epochs, label, None
        if mode == "bar":
            from tqdm.auto import tqdm
            self.bar = tqdm(total=epochs, desc=label, leave=True)

    def update(self, epoch: int, train: dict, val: dict | None) -> None:
        text = f"loss {train['loss']:.4g}" + (f", val {val['loss']:.4g}" if val else "")
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(text)
        elif self.mode == "lines":
            every = max(1, self.epochs // 4)
            if epoch == 1 or epoch == self.epochs or epoch % every == 0:
                print(f"[{self.label}] epoch {epoch}/{self.epochs}: {text}", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _interactive() -> bool:
    return "ipykernel" in sys.modules or sys.stderr.isatty()


def fit(model: nn.Module, data, *, epochs: int, lr: float = 1e-3, batch_size: int = 128,
        optimizer: str = "adam", weight_decay: float = 0.0, schedule: str | None = None,
        hooks: Sequence[Callable] = (), seed: int = 0, device: str | torch.device = "auto",
        cache: str | None = None, amp: bool = False, progress="auto") -> History:
    """Train ``model`` (an :class:`~aelab.models.Autoencoder`) in place and return its History.

    Args:
        data: a :class:`~aelab.data.Dataset` (trains on ``x_train``, validates on ``x_val``),
            a tensor of training inputs of shape (N, ...), or a pair (x_train, x_val).
        epochs, lr, batch_size, weight_decay: the usual; validated before training starts.
        optimizer: ``"adam"`` or ``"sgd"`` (momentum 0.9).
        schedule: None or ``"cosine"`` (learning rate decayed to 0 over the epochs).
        hooks: callables ``hook(epoch, model, optimizer)`` run at the start of every epoch
            (epoch counts from 0), e.g. :func:`aelab.activations.anneal_k`.
        seed: seeds the initial batch order and the corruption noise, epoch by epoch, so a run
            resumed from a checkpoint continues exactly as an uninterrupted one.
        device: ``"auto"`` (AELAB_DEVICE, then CUDA, then MPS, then CPU) or a device name.
        cache: a name: load the model trained before under that name if everything that
            determines the result is unchanged, else train and save it there.
        amp: bfloat16 autocast on CUDA (ignored elsewhere).
        progress: ``"auto"``, ``"bar"``, ``"lines"`` or False.

    Raises:
        ValueError / TypeError: bad inputs or settings, before any training.
        TrainingDivergedError: the loss became NaN or infinite; the model keeps the weights
            of the last good epoch.

    Ctrl-C stops training cleanly: the model keeps what it learned, the returned History has
    ``interrupted=True`` and, with ``cache``, the partial run is saved to resume next time.
    """
    x, x_val, dataset_name = _split(data)
    _check_positive("epochs", epochs, integer=True)
    _check_positive("lr", lr, integer=False)
    _check_positive("batch_size", batch_size, integer=True)
    if not isinstance(weight_decay, (int, float)) or not 0 <= weight_decay < math.inf:
        raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay!r}.")
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}.")
    if schedule not in (None, "cosine"):
        raise ValueError(f"schedule must be None or 'cosine', got {schedule!r}.")
    if not hasattr(model, "loss") or not isinstance(model, nn.Module):
        raise TypeError("fit trains an aelab Autoencoder (an nn.Module with a .loss(x) method).")
    _validate_inputs(model, x, "the training inputs")
    if x_val is not None:
        _validate_inputs(model, x_val, "the validation inputs")
        if x_val.shape[1:] != x.shape[1:]:
            raise ValueError(f"validation inputs have shape {tuple(x_val.shape[1:])}, "
                             f"training inputs {tuple(x.shape[1:])}.")
    device = pick_device(device)
    model.to(device)
    _probe_model(model, x.to(device))

    settings = {"epochs": epochs, "lr": lr, "batch_size": batch_size, "optimizer": optimizer,
                "weight_decay": weight_decay, "schedule": schedule, "seed": int(seed),
                "hooks": [_hook_name(h) for h in hooks], "amp": bool(amp)}
    seed_everything(seed)
    config = _config(model, x, x_val, dataset_name, settings) if cache else None
    key = _cache.make_key(config) if cache else None

    opt = _make_optimizer(optimizer, model, lr, weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if schedule == "cosine" else None
    history = History(train={k: [] for k in ["loss", *model.term_names()]},
                      val={k: [] for k in ["loss", *model.term_names()]} if x_val is not None else {},
                      epochs=epochs, device=str(device))

    if cache:
        payload = _cache.load(cache, key, config)
        if payload is not None:
            model.load_state_dict(payload["state_dict"])
            model.to(device)
            history = History.from_dict(payload["history"])
            if payload.get("complete"):
                for hook in hooks:  # hooks set attributes (such as TopK.k) that weights don't hold
                    hook(epochs - 1, model, opt)
                history.from_cache = True
                print(f"Loaded '{cache}' from the cache ({_cache.entry_path(cache)}): {history.epochs_done} epochs.")
                _leave_rng_seeded(seed, epochs)
                return history
            opt.load_state_dict(payload["optimizer"])
            if scheduler is not None and payload.get("scheduler"):
                scheduler.load_state_dict(payload["scheduler"])
            history.interrupted = False
            print(f"Resuming '{cache}' from epoch {history.epochs_done + 1} of {epochs}.")

    def save(complete: bool) -> None:
        if cache:
            _cache.save(cache, {"key": key, "config": json.dumps(config, sort_keys=True), "complete": complete,
                                "state_dict": model.state_dict(), "optimizer": opt.state_dict(),
                                "scheduler": scheduler.state_dict() if scheduler else None,
                                "history": history.to_dict()})

    use_amp = bool(amp) and device.type == "cuda"
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else _no_autocast
    x, x_val = x.to(device), (x_val.to(device) if x_val is not None else None)
    progress_bar = _Progress(progress, epochs, cache or type(model).__name__) if progress else None
    started, last_save = time.perf_counter(), time.perf_counter()
    good_state = good_opt = None
    try:
        for epoch in range(history.epochs_done, epochs):
            good_state = copy.deepcopy(model.state_dict())
            good_opt = copy.deepcopy(opt.state_dict())
            torch.manual_seed(int(seed) * 100_003 + epoch)  # the corruption noise of this epoch
            generator = torch.Generator().manual_seed(int(seed) * 100_003 + epoch)
            for hook in hooks:
                hook(epoch, model, opt)
            sums = _train_one_epoch(model, opt, x, batch_size, generator, autocast)
            train = dict(zip(history.train, (sums / len(x)).tolist()))  # the epoch's one sync
            if not all(math.isfinite(v) for v in train.values()):
                model.load_state_dict(good_state)
                opt.load_state_dict(good_opt)
                raise TrainingDivergedError(
                    f"The loss became {train['loss']} in epoch {epoch + 1}; the model was reset to its weights "
                    f"after epoch {epoch}. Lower the learning rate (lr={lr}) or the penalty weights, or check "
                    "the inputs.")
            val = evaluate(model, x_val) if x_val is not None else None
            for k, v in train.items():
                history.train[k].append(v)
            for k, v in (val or {}).items():
                history.val[k].append(v)
            if scheduler is not None:
                scheduler.step()
            if progress_bar:
                progress_bar.update(epoch + 1, train, val)
            if cache and time.perf_counter() - last_save > 60:  # a crash loses at most a minute
                save(complete=False)
                last_save = time.perf_counter()
    except KeyboardInterrupt:
        if good_state is not None:  # back to the end of the last whole epoch, so a resume is exact
            model.load_state_dict(good_state)
            opt.load_state_dict(good_opt)
        history.interrupted = True
        print(f"\nInterrupted after {history.epochs_done} of {epochs} epochs: the model keeps what it learned"
              + (f"; saved to the cache as a partial run, fit(..., cache='{cache}') resumes it." if cache else "."),
              file=sys.stderr)
    finally:
        history.seconds += time.perf_counter() - started
        if progress_bar:
            progress_bar.close()
    save(complete=not history.interrupted)
    _leave_rng_seeded(seed, epochs)
    return history


def _leave_rng_seeded(seed: int, epochs: int) -> None:
    """Leave the global RNG in a state that depends only on fit's arguments. Training draws from it
    (corruption noise) and a cache load does not; without this, a model built after ``fit`` would
    get other initial weights on a notebook's second run, and miss its own cache entry."""
    torch.manual_seed(int(seed) * 100_003 + epochs)


class _no_autocast:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
