"""``fit``: the one training loop of the course, and ``History``, what it returns.

The loop is short on purpose (see ``fit`` and ``_train_one_epoch``): the data already lives on
the device, each epoch draws one random permutation and slices mini-batches by index, and the
per-batch losses are summed on the device and read back once per epoch, so the GPU never waits
on Python. What a run's result depends on is explicit: the seed (``fit`` owns the generators of
the batch order and of the corruption noise), and the :class:`Checkpoint`, whose key holds
everything else. The run moves from one consistent :class:`_State` to the next, one epoch at a
time, so an interrupt or a divergence anywhere leaves weights, optimizer, scheduler, History and
the saved partial run agreeing with each other.
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
import re
import sys
import time
import types
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from . import cache as _cache
from . import rng, validation
from .data import Dataset
from .device import pick_device

SAVE_EVERY_S = 60.0  # how often fit saves a partial run with cache=


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite; the model was reset to its last good weights."""


class CacheKeyError(ValueError):
    """``fit(..., cache=...)`` was given a hook, corruption or penalty it cannot identify."""


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (CPU and all GPUs) in one call, for a
    notebook's own draws. aelab's results never depend on them: builders and ``fit`` take ``seed=``."""
    seed = rng.check_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@dataclass
class History:
    """Per-epoch means of every loss term on the training and validation sets.

    ``train["loss"]`` is the total objective; the other keys are the terms the model's ``loss``
    returns (``"reconstruction"`` and one per penalty, or whatever a subclass adds). ``val`` has
    the same keys, computed without the corruption. ``interrupted`` is True when Ctrl-C stopped training early.
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

    def append(self, train: dict[str, float], val: dict[str, float] | None) -> None:
        """Add one epoch; the keys are the terms the model's ``loss`` returned."""
        for k, v in train.items():
            self.train.setdefault(k, []).append(v)
        for k, v in (val or {}).items():
            self.val.setdefault(k, []).append(v)

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
    dtype = next((p.dtype for p in model.parameters()), x.dtype)
    if x.dtype != dtype:
        raise TypeError(f"{label} have dtype {x.dtype} but the model's weights are {dtype}: convert one to the "
                        f"other, e.g. x.to({dtype}) (or model.to({x.dtype})).")
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"{label} must have shape (N, ...) with N > 0, got {tuple(x.shape)}.")
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"{label} contains {bad} NaN or infinite values; clean the data before training.")
    check_targets = getattr(getattr(model, "objective", None), "check_targets", None)
    if check_targets is not None:
        check_targets(x, label)




def _probe_model(model: nn.Module, x: torch.Tensor) -> None:
    """Run a few samples through the model so that a shape mismatch, or initial weights that give
    no finite loss, are reported before training."""
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


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def identify(obj, role: str) -> str:
    """What ``obj`` computes, as a string for the cache key: its ``describe()``, a dataclass's or
    module's repr, or a plain function's name and code. Raises :class:`CacheKeyError` for what
    cannot be identified (a lambda, a closure, an object whose repr is its memory address)."""
    if callable(getattr(obj, "describe", None)):
        text = str(obj.describe())
    elif isinstance(obj, types.FunctionType):
        if obj.__name__ == "<lambda>" or obj.__closure__:
            raise _unidentifiable(obj, role, "a lambda or closure can hide any setting")
        code = {"code": obj.__code__.co_code.hex(), "consts": repr(obj.__code__.co_consts)}
        text = f"{obj.__module__}.{obj.__qualname__}:{_cache.make_key(code)}"  # its name and what it runs
    else:
        text = repr(obj)  # a dataclass's or module's repr lists its settings
    if _ADDRESS.search(text):
        raise _unidentifiable(obj, role, "its description is a memory address, which changes every run")
    return text


def _unidentifiable(obj, role: str, why: str) -> CacheKeyError:
    return CacheKeyError(
        f"fit(..., cache=...) cannot tell what the {role} {obj!r} computes ({why}), so it cannot tell a cached "
        f"result from a stale one. Give it a describe() method returning its settings as a string (as aelab's "
        f"corruptions, penalties and anneal_k have), or make it a frozen dataclass, or train without cache=.")


def _module_state(model: nn.Module) -> dict:
    """Public plain attributes of every submodule (such as TopK.k): state that the weights don't hold."""
    plain = (int, float, str, bool, type(None))
    out = {}
    for name, module in model.named_modules():
        attrs = {k: v for k, v in vars(module).items()
                 if not k.startswith("_") and k != "training" and isinstance(v, plain)}
        if attrs:
            out[name or "."] = attrs
    return out


def _loose(obj, role: str) -> str:
    """Without a cache, a run only has to match itself within this process: the repr will do."""
    return repr(obj)


def _describe_model(model: nn.Module, strict: bool) -> dict:
    describe = identify if strict else _loose
    corruption = getattr(model, "corruption", None)
    return {"class": f"{type(model).__module__}.{type(model).__qualname__}",
            "modules": {name: repr(child) for name, child in model.named_children()},
            "state": _module_state(model),
            "objective": describe(getattr(model, "objective", None), "objective"),
            "corruption": describe(corruption, "corruption") if corruption is not None else None,
            "penalties": [describe(p, "penalty") for p in getattr(model, "penalties", ())]}


@dataclass
class _State:
    """One consistent point of a run: what a checkpoint holds. Copies, never live objects."""

    model: dict
    optimizer: dict
    scheduler: dict | None
    history: History

    @classmethod
    def capture(cls, model, optimizer, scheduler, history) -> _State:
        return cls(copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict()),
                   copy.deepcopy(scheduler.state_dict()) if scheduler is not None else None,
                   copy.deepcopy(history))

    def restore(self, model, optimizer, scheduler) -> History:
        """Put model, optimizer and scheduler back to this point; return a copy of its History."""
        model.load_state_dict(self.model)
        optimizer.load_state_dict(copy.deepcopy(self.optimizer))
        if scheduler is not None and self.scheduler is not None:
            scheduler.load_state_dict(self.scheduler)
        return copy.deepcopy(self.history)


class Checkpoint:
    """A run's cache entry: its key, what changed since the stored run, load, save and resume.

    The key is a hash of everything that changes the result and nothing else (no memory
    addresses): aelab's version, the model (its modules, their plain attributes, its objective,
    corruption and penalties as they describe themselves) and its initial weights, the data and
    the settings of ``fit``. Saving never raises: a cache folder that cannot be written costs the
    cache, not the training, and says so once.
    """

    def __init__(self, name: str, config: dict):
        self.name, self.config, self.key = name, config, _cache.make_key(config)
        self.path = _cache.check_name(name)  # a name the file system cannot store fails before training
        self.writable = True
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if not os.access(folder, os.W_OK):
                raise PermissionError(13, "the folder is read-only")
        except OSError as error:
            self._warn(f"cannot write to the cache folder {folder} ({error.strerror or error})")

    def _warn(self, why: str) -> None:
        if self.writable:
            self.writable = False
            warnings.warn(f"aelab cache: {why}; the model trains and fit returns it and its History, but "
                          f"'{self.name}' is not saved. Set AELAB_CACHE_DIR to a writable folder to keep it.",
                          RuntimeWarning, stacklevel=3)

    def load(self, model: nn.Module, epochs: int) -> _State | None:
        """The stored state of this run (complete or partial), or None; a wrong entry is moved aside."""
        payload = _cache.load(self.name, self.key, self.config, check=lambda p: _check_payload(p, model, epochs))
        if payload is None:
            return None
        history = History.from_dict(payload["history"])
        return _State(payload["state_dict"], payload.get("optimizer") or {}, payload.get("scheduler"), history)

    def save(self, state: _State, complete: bool) -> bool:
        """Write ``state`` atomically; False (with a warning) when the folder cannot take it."""
        if not self.writable:
            return False
        if complete and not _finite_state(state):
            raise TrainingDivergedError("refusing to cache a run with non-finite weights or losses as complete")
        try:
            _cache.save(self.name, {"key": self.key, "config": json.dumps(self.config, sort_keys=True),
                                    "complete": complete, "state_dict": state.model, "optimizer": state.optimizer,
                                    "scheduler": state.scheduler, "history": state.history.to_dict()})
        except OSError as error:
            self._warn(f"could not write {self.path} ({error.strerror or error})")
            return False
        return True


def _finite_state(state: _State) -> bool:
    values = [v for vs in (*state.history.train.values(), *state.history.val.values()) for v in vs]
    return all(math.isfinite(v) for v in values) and all(
        torch.isfinite(t).all() for t in state.model.values() if torch.is_floating_point(t))


def _check_payload(payload: dict, model: nn.Module, epochs: int) -> None:
    """Raise CorruptCheckpoint unless the payload is a run of this model, finite and self-consistent."""
    corrupt = _cache.CorruptCheckpoint
    state, expected = payload.get("state_dict"), model.state_dict()
    if not isinstance(state, dict) or set(state) != set(expected):
        raise corrupt("its weights are not this model's (other parameter names)")
    for k, v in expected.items():
        if not isinstance(state[k], torch.Tensor) or state[k].shape != v.shape or state[k].dtype != v.dtype:
            raise corrupt(f"its weight {k!r} does not fit this model ({tuple(v.shape)}, {v.dtype})")
    try:
        history = History.from_dict(payload["history"])
        lengths = {len(v) for v in (*history.train.values(), *history.val.values())}
    except (KeyError, TypeError, AttributeError) as error:
        raise corrupt(f"its History is missing or malformed ({error})") from error
    if not history.train or len(lengths) != 1 or history.epochs != epochs:
        raise corrupt("its History does not match its epochs")
    complete = payload.get("complete")
    if complete not in (True, False) or complete != (history.epochs_done == epochs):
        raise corrupt("its 'complete' flag does not match its History")
    if not complete and not isinstance(payload.get("optimizer"), dict):
        raise corrupt("a partial run without its optimizer state")
    if not _finite_state(_State(state, {}, None, history)):
        raise corrupt("it holds NaN or infinite weights or losses")


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, batch_size: int = 4096) -> dict[str, float]:
    """Mean of each loss term over ``x`` (no corruption), as floats. ``x`` may live anywhere."""
    names, means = _loss_sums(model, x, batch_size)
    return dict(zip(names, means.tolist()))


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


def _train_one_epoch(model, optimizer, x, batch_size, seed, autocast) -> tuple[list[str], torch.Tensor]:
    """One pass over ``x`` in random mini-batches; returns the term names and their sums (not yet
    averaged, still on the device). ``seed`` fixes both the batch order and the corruption noise."""
    model.train()
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed)).to(x.device)
    noise = torch.Generator(device=x.device).manual_seed(seed)
    sums = None
    for start in range(0, len(x), batch_size):
        xb = x[order[start:start + batch_size]]
        with autocast():
            total, terms = model.loss(xb, generator=noise)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        batch = torch.stack([total, *terms.values()]).detach() * len(xb)
        sums = batch if sums is None else sums + batch
    return ["loss", *terms], sums


@torch.no_grad()
def _loss_sums(model: nn.Module, x: torch.Tensor, batch_size: int = 4096) -> tuple[list[str], torch.Tensor]:
    """The means of the loss terms over ``x`` in eval mode, left on the device (no sync)."""
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
    return ["loss", *terms], sums / len(x)


class _Progress:
    """A tqdm bar in an interactive session, a few plain lines in CI or a log."""

    def __init__(self, mode, epochs: int, label: str):
        if mode == "auto":
            mode = "lines" if (os.environ.get("CI") or not _interactive()) else "bar"
        self.mode, self.epochs, self.label, self.bar = mode, epochs, label, None
        if mode == "bar":
            from tqdm.auto import tqdm
            # at most one redraw a second: every redraw of a notebook bar is several kernel messages, and a
            # cell that trains many models must stay under the output socket's queue limit (1000 messages,
            # beyond which Jupyter drops output, the cell's end included)
            self.bar = tqdm(total=epochs, desc=label, leave=True, mininterval=1.0)

    def update(self, epoch: int, train: dict, val: dict | None) -> None:
        text = f"loss {train['loss']:.4g}" + (f", val {val['loss']:.4g}" if val else "")
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(1)
        elif self.mode == "lines":
            every = max(1, self.epochs // 4)
            if epoch == 1 or epoch == self.epochs or epoch % every == 0:
                print(f"[{self.label}] epoch {epoch}/{self.epochs}: {text}", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _interactive() -> bool:
    return "ipykernel" in sys.modules or sys.stderr.isatty()


def _settings(epochs, lr, batch_size, optimizer, weight_decay, schedule, amp) -> dict:
    epochs, lr = validation.positive_int("epochs", epochs), validation.positive("lr", lr)
    batch_size = validation.positive_int("batch_size", batch_size)
    weight_decay = validation.non_negative("weight_decay", weight_decay)
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}.")
    if schedule not in (None, "cosine"):
        raise ValueError(f"schedule must be None or 'cosine', got {schedule!r}.")
    return {"epochs": int(epochs), "lr": lr, "batch_size": int(batch_size), "optimizer": optimizer,
            "weight_decay": weight_decay, "schedule": schedule, "amp": validation.flag("amp", amp)}


def _run_config(model, x, x_val, dataset_name, settings, hooks, strict: bool) -> dict:
    """Everything that determines the result except the initial weights (added by ``fit``)."""
    from . import __version__

    describe = identify if strict else _loose
    return {"aelab": __version__, "model": _describe_model(model, strict),
            "data": {"name": dataset_name, "train": _cache.tensor_digest(x),
                     "val": _cache.tensor_digest(x_val) if x_val is not None else None},
            "fit": {**settings, "hooks": [describe(h, "hook") for h in hooks]}}


def _weights_digest(model: nn.Module) -> str:
    return _cache.tensor_digest(*model.state_dict().values())


def fit(model: nn.Module, data, *, epochs: int, lr: float = 1e-3, batch_size: int = 128,
        optimizer: str = "adam", weight_decay: float = 0.0, schedule: str | None = None,
        hooks: Sequence[Callable] = (), seed: int | torch.Generator = 0, device: str | torch.device = "auto",
        cache: str | None = None, label: str | None = None, amp: bool = False, progress="auto") -> History:
    """Train ``model`` (an :class:`~aelab.models.Autoencoder`) in place and return its History.

    Args:
        data: a :class:`~aelab.data.Dataset` (trains on ``x_train``, validates on ``x_val``),
            a tensor of training inputs of shape (N, ...), or a pair (x_train, x_val).
        epochs, lr, batch_size, weight_decay: the usual; validated before training starts.
        optimizer: ``"adam"`` or ``"sgd"`` (momentum 0.9).
        schedule: None or ``"cosine"`` (learning rate decayed to 0 over the epochs).
        hooks: callables ``hook(epoch, model, optimizer)`` run at the start of every epoch
            (epoch counts from 0), e.g. :func:`aelab.activations.anneal_k`. With ``cache`` each
            must be identifiable (a ``describe()`` method, a dataclass, or a plain function).
        seed: an integer (any) or a ``torch.Generator`` (one number is drawn from it). ``fit``
            owns the generators of the batch order and of the corruption noise, reseeded epoch by
            epoch from it, so a resumed run continues exactly as an uninterrupted one; torch's
            global generator is neither read nor changed.
        device: ``"auto"`` (AELAB_DEVICE, then CUDA, then MPS, then CPU) or a device name.
        cache: a name: load the model trained before under that name if everything that
            determines the result is unchanged (see :class:`Checkpoint`), else train and save it.
        label: what the progress bar and the messages call this run, for people (for example
            ``"k-sparse AE, k = 10"``); not part of the cache key. Default: the model's class
            and layer sizes, such as ``"Autoencoder 784-1000-784"``.
        amp: bfloat16 autocast on CUDA (ignored elsewhere).
        progress: ``"auto"``, ``"bar"``, ``"lines"`` or False.

    Raises:
        ValueError / TypeError: bad inputs or settings, before any training.
        CacheKeyError: with ``cache``, a hook, corruption or penalty that cannot be identified.
        TrainingDivergedError: a training or validation loss became NaN or infinite; the model,
            optimizer and scheduler are reset to the end of the last good epoch.

    Ctrl-C stops training cleanly at any point: the model, optimizer, scheduler and the returned
    History (``interrupted=True``) are those of the last whole epoch and, with ``cache``, that
    partial run is saved. Calling ``fit`` again (with this model object or a freshly built one)
    resumes it, bit-identical to an uninterrupted run.
    """
    x, x_val, dataset_name = _split(data)
    settings = _settings(epochs, lr, batch_size, optimizer, weight_decay, schedule, amp)
    if not hasattr(model, "loss") or not isinstance(model, nn.Module):
        raise TypeError("fit trains an aelab Autoencoder (an nn.Module with a .loss(x) method).")
    hooks = tuple(hooks)
    if not all(callable(h) for h in hooks):
        raise TypeError("each hook must be callable as hook(epoch, model, optimizer).")
    _validate_inputs(model, x, "the training inputs")
    if x_val is not None:
        _validate_inputs(model, x_val, "the validation inputs")
        if x_val.shape[1:] != x.shape[1:]:
            raise ValueError(f"validation inputs have shape {tuple(x_val.shape[1:])}, "
                             f"training inputs {tuple(x.shape[1:])}.")
    if label is not None and (not isinstance(label, str) or not label.strip()):
        raise ValueError(f"label must be a non-empty string (what the progress bar shows), got {label!r}.")
    label = label or _default_label(model)
    seed = rng.resolve_seed(seed)
    device = pick_device(device)
    model.to(device)
    x, x_val = x.to(device), (x_val.to(device) if x_val is not None else None)
    _probe_model(model, x)

    # The run's identity. A model that an interrupted fit left behind continues that run: its
    # weights are no longer the initial ones, so the run's own config is taken back from it.
    def current_config():
        return _run_config(model, x, x_val, dataset_name, {**settings, "seed": seed}, hooks, strict=bool(cache))

    # Hashing the data and weights costs a fixed moment, so a run without a cache skips it unless
    # it may be the continuation of an interrupted one.
    left = model.__dict__.get("_aelab_interrupted")
    config = current_config() if (cache or left is not None) else None
    same_run = left is not None and left["match"] == config and left["weights"] == _weights_digest(model)
    if same_run and left["config"] is not None:
        config = left["config"]
    elif config is not None:
        config = {**config, "initial_weights": _weights_digest(model)}
    checkpoint = Checkpoint(cache, config) if cache else None

    opt = _make_optimizer(optimizer, model, lr, weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if schedule == "cosine" else None
    state = _State.capture(model, opt, scheduler, History(epochs=epochs, device=str(device)))
    _check_finite_loss(model, x_val if x_val is not None else x[:batch_size], "the initial weights")
    stored = (checkpoint.load(model, epochs) if checkpoint else None) or (left["state"] if same_run else None)
    if stored is not None:
        state = stored
        history = _resume(state, model, opt, scheduler, hooks, device)
        if history.complete:
            model.__dict__.pop("_aelab_interrupted", None)
            history.from_cache = True
            print(f"{label}: loaded from the cache ({history.epochs_done} epochs).")
            return history
        print(f"{label}: resuming from epoch {history.epochs_done + 1} of {epochs}.")

    use_amp = bool(amp) and device.type == "cuda"
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else _no_autocast
    x_check = x_val if x_val is not None else x[:batch_size]  # the loss the weights after an epoch must give
    bar = _Progress(progress, epochs, label) if progress else None
    started = last_save = time.perf_counter()
    try:
        for epoch in range(state.history.epochs_done, epochs):
            history = copy.deepcopy(state.history)
            for hook in hooks:
                hook(epoch, model, opt)
            with _global_rng_fixed(rng.epoch_seed(seed, epoch), device):  # for corruptions without generator=
                names, sums = _train_one_epoch(model, opt, x, batch_size, rng.epoch_seed(seed, epoch), autocast)
            # The weights after the last step must be finite and give a finite loss too.
            check_names, check = _loss_sums(model, x_check)
            finite = torch.stack([torch.isfinite(p).all() for p in model.parameters()]).all().reshape(1)
            values = torch.cat([sums / len(x), check, finite.to(check.dtype)]).tolist()  # the epoch's one sync
            values, weights_finite = values[:-1], values[-1] == 1.0
            train, checked = dict(zip(names, values[:len(names)])), dict(zip(check_names, values[len(names):]))
            if not weights_finite or not all(math.isfinite(v) for v in values):
                state.restore(model, opt, scheduler)
                which = "training loss" if not all(math.isfinite(v) for v in train.values()) else \
                    ("validation loss" if x_val is not None else "end-of-epoch loss")
                bad = next((v for v in values if not math.isfinite(v)), None)
                what = f"The {which} became {bad}" if bad is not None else "The weights became NaN or infinite"
                raise TrainingDivergedError(
                    f"{what} in epoch {epoch + 1}; "
                    f"the model was reset to its weights after epoch {epoch}. Lower the learning rate (lr={lr}) "
                    "or the penalty weights, or check the inputs.")
            history.append(train, checked if x_val is not None else None)
            if scheduler is not None:
                scheduler.step()
            history.seconds += time.perf_counter() - started
            started = time.perf_counter()
            state = _State.capture(model, opt, scheduler, history)  # the commit point of this epoch
            if bar:
                bar.update(epoch + 1, train, checked if x_val is not None else None)
            if checkpoint and time.perf_counter() - last_save > SAVE_EVERY_S:  # a crash loses at most this
                checkpoint.save(state, complete=False)
                last_save = time.perf_counter()
    except KeyboardInterrupt:
        history = _resume(state, model, opt, scheduler, hooks, device)
        history.interrupted = not history.complete
        if history.interrupted:
            model.__dict__["_aelab_interrupted"] = {"match": current_config(), "config": config,
                                                    "weights": _weights_digest(model), "state": state}
            print(f"\n{label}: interrupted after {history.epochs_done} of {epochs} epochs. The model keeps what it\n"
                  "learned up to there; fit(...) again with the same arguments resumes it"
                  + (f"\n(saved to the cache as a partial run, '{cache}')." if cache else "."), file=sys.stderr)
    finally:
        if bar:
            bar.close()
    history = copy.deepcopy(state.history) if not history.interrupted else history
    if not history.interrupted:
        model.__dict__.pop("_aelab_interrupted", None)
    if checkpoint and state.history.epochs_done:  # an interrupt before the first epoch leaves nothing to resume
        try:
            checkpoint.save(state, complete=history.complete)
        except KeyboardInterrupt:  # the file is still the old entry or the new one, never a mix
            print(f"\n{label}: interrupted while saving to the cache. Finishing the save (it takes a moment)\n"
                  "so that the cache holds what fit returns.", file=sys.stderr)
            checkpoint.save(state, complete=history.complete)
    return history


def _default_label(model: nn.Module) -> str:
    """``"Autoencoder 784-1000-784"``: the class and the layer sizes a person knows the model by."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears or any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules()):
        return type(model).__name__
    sizes = [linears[0].in_features, *(m.out_features for m in linears)]
    return f"{type(model).__name__} {'-'.join(map(str, sizes))}"


def _resume(state: _State, model, opt, scheduler, hooks, device) -> History:
    """Put the run back to ``state``; hooks set attributes (such as TopK.k) that weights don't hold,
    so they are replayed for the last epoch done."""
    history = state.restore(model, opt, scheduler)
    model.to(device)
    if history.epochs_done:
        for hook in hooks:
            hook(history.epochs_done - 1, model, opt)
    history.device = str(device)
    return history


def _check_finite_loss(model: nn.Module, x: torch.Tensor, what: str) -> None:
    names, values = _loss_sums(model, x)
    if not torch.isfinite(values).all():
        raise TrainingDivergedError(f"{what} give a non-finite loss ({dict(zip(names, values.tolist()))}) before "
                                    "any training: check the model's weights and the inputs.")


class _global_rng_fixed:
    """Seed torch's global generator (the CPU's and the training device's) for one epoch and put
    both back afterwards: a corruption that draws from it (one without ``generator=``) is then
    reproducible, and nothing outside the epoch sees a change."""

    def __init__(self, seed: int, device: torch.device):
        self.seed, self.device = seed, device

    def __enter__(self):
        self.cpu = torch.random.get_rng_state()
        torch.default_generator.manual_seed(self.seed)
        if self.device.type == "cuda":
            self.accelerator = torch.cuda.get_rng_state(self.device)
            with torch.cuda.device(self.device):
                torch.cuda.manual_seed(self.seed)
        elif self.device.type == "mps":
            self.accelerator = torch.mps.get_rng_state()
            torch.mps.manual_seed(self.seed)
        return self

    def __exit__(self, *exc):
        torch.random.set_rng_state(self.cpu)
        if self.device.type == "cuda":
            torch.cuda.set_rng_state(self.accelerator, self.device)
        elif self.device.type == "mps":
            torch.mps.set_rng_state(self.accelerator)
        return False


class _no_autocast:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
