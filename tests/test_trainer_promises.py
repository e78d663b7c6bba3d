"""The promises of issue 11, one test each: explicit randomness, bit-identical numerics, interrupt
anywhere, divergence, cache identity, cache integrity, cache folder failures, an open objective."""

import errno
import hashlib
import math
import os
import sys
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import aelab
from aelab import cache as cache_module
from aelab import train as train_module


def sha(model):
    """A digest of the state dict computed here, independent of aelab's own."""
    h = hashlib.sha256()
    for k, v in model.state_dict().items():
        h.update(k.encode() + v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def six_by_six():
    g = torch.Generator().manual_seed(0)
    base = torch.rand(120, 1, 4, 4, generator=g)
    x = torch.nn.functional.interpolate(base, size=(6, 6), mode="bilinear", align_corners=False).clamp(0, 1)
    return x[:96], x[96:]


# Recorded on the code before this change (commit 009cd15): torch.manual_seed(s); build(); then
# fit(model, (x, x_val), epochs=3, batch_size=16, **settings). Columns: s, initial weights and final
# weights as cache.tensor_digest gave them then, and the losses of History.train / History.val.
PINNED = {
    "mask": (100, "d532805a04d21ece", "b62486e5a4493b57",
             [25.26609230041504, 25.210556030273438, 25.175321578979492],
             [25.27587127685547, 25.23045539855957, 25.21683692932129]),
    "gauss_tied_sgd": (101, "97cdc2966f2234b8", "16bd7abf3e1da7eb",
                       [24.979562759399414, 24.94915199279785, 24.915407180786133],
                       [24.96373176574707, 24.94487762451172, 24.93616485595703]),
    "saltpepper_kl": (102, "d1d7ed86a2e8d35f", "397cfdc9794c474d",
                      [26.5234375, 26.352691650390625, 26.201772689819336],
                      [26.459409713745117, 26.297513961791992, 26.151817321777344]),
    "topk_anneal": (103, "eb2f82e7b1bc5348", "65c34980fd742c0d",
                    [9.050338745117188, 8.391806602478027, 7.596459865570068],
                    [8.754002571105957, 8.063748359680176, 7.244816303253174]),
    "conv_mask": (104, "19f83096f29334cf", "fb4554a7de1ce027",
                  [25.102590560913086, 25.086713790893555, 25.071863174438477],
                  [25.026357650756836, 25.014814376831055, 25.005285263061523]),
    "linear_balanced": (105, "54a0ddac0d0cce8a", "a25379a7acfef2c1",
                        [16.204381942749023, 15.81656551361084, 15.418937683105469],
                        [16.434335708618164, 16.05858039855957, 15.60611343383789]),
    "contractive": (106, "c645ba2024c0a792", "b02ac1fcbca11bcd",
                    [24.99786376953125, 24.977815628051758, 24.962247848510742],
                    [24.993005752563477, 24.98207664489746, 24.97285270690918]),
}


def build_new_way(name, seed):
    """The pinned models built with explicit seeds (and no global seeding anywhere)."""
    shape = (1, 6, 6)
    if name == "mask":
        return aelab.mlp_autoencoder(shape, 8, corruption=aelab.MaskingNoise(0.3), seed=seed), (), \
            dict(seed=5, schedule="cosine")
    if name == "gauss_tied_sgd":
        return aelab.mlp_autoencoder(shape, 8, tied=True, corruption=aelab.GaussianNoise(0.2), seed=seed), (), \
            dict(seed=0, optimizer="sgd", lr=1e-2)
    if name == "saltpepper_kl":
        return aelab.mlp_autoencoder(shape, 8, hidden=(12,), corruption=aelab.SaltAndPepper(0.2),
                                     penalties=[aelab.KLSparsity(0.1, 0.5)], seed=seed), (), dict(seed=7)
    if name == "topk_anneal":
        layer = aelab.TopK(4)
        model = aelab.mlp_autoencoder(shape, 10, tied=True, code_activation=layer, output="linear", loss="mse",
                                      seed=seed)
        return model, (aelab.anneal_k(layer, 8, 4, 2),), dict(seed=0)
    if name == "conv_mask":
        with aelab.seeded(seed):
            model = aelab.Autoencoder(aelab.conv_encoder(shape, 5, channels=(3,)),
                                      aelab.conv_decoder(shape, 5, channels=(3,)), corruption=aelab.MaskingNoise(0.5))
        return model, (), dict(seed=2)
    if name == "linear_balanced":
        return aelab.linear_autoencoder(shape, 3, seed=seed), (), dict(seed=1)
    return aelab.mlp_autoencoder(shape, 8, tied=True, penalties=[aelab.Contractive(0.1)], seed=seed), (), dict(seed=3)


# Final weights are bit-identical only on the processor that computed them. PINNED's come from the
# machine of commit 009cd15, whose processor was not recorded; the same runs on other processors (an
# AMD EPYC and an Intel Xeon both report AVX512, and their kernels round differently from the first
# step on) are below. Initial weights are the same everywhere.
FINAL_ON = {
    "AuthenticAMD family 25 model 17 (AMD EPYC)": {
        "mask": "cb960e7f41417c56", "gauss_tied_sgd": "e216d80778ed8946", "saltpepper_kl": "df6c2203157879d3",
        "topk_anneal": "2948c3c7540268a2", "conv_mask": "8371585ac5b1bee2", "linear_balanced": "08ef371c14586902",
        "contractive": "b36dedd70bfb3604"},
}


@pytest.mark.parametrize("name", list(PINNED))
def test_numerics_are_bit_identical_to_the_run_before_explicit_seeds(name):
    from aelab.device import cpu_model

    seed, initial, final, train_loss, val_loss = PINNED[name]
    x, x_val = six_by_six()
    torch.manual_seed(12345)  # whatever the global generator holds must not matter any more
    model, hooks, settings = build_new_way(name, seed)
    assert cache_module.tensor_digest(*model.state_dict().values()) == initial
    history = aelab.fit(model, (x, x_val), epochs=3, batch_size=16, hooks=hooks, progress=False, cache=name,
                        **settings)
    digest = cache_module.tensor_digest(*model.state_dict().values())
    losses, pinned = history.train["loss"] + history.val["loss"], train_loss + val_loss
    if cpu_model() in FINAL_ON:
        assert digest == FINAL_ON[cpu_model()][name]
    elif digest == final:                     # the pins' own machine: the losses are exact too
        assert losses == pinned
    # any processor: the same computation, rounded differently (measured: at most 1.5e-7 relative)
    assert np.allclose(losses, pinned, rtol=1e-6, atol=0)


def test_fit_neither_reads_nor_changes_the_global_generator(tiny_images):
    results = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        before = torch.random.get_rng_state()
        model = aelab.mlp_autoencoder((1, 8, 8), 6, corruption=aelab.MaskingNoise(0.4), seed=0)
        history = aelab.fit(model, tiny_images, epochs=2, batch_size=32, seed=3, progress=False)
        assert torch.equal(torch.random.get_rng_state(), before)
        results.append((sha(model), history.train))
    assert results[0] == results[1]


def test_a_model_built_after_fit_gets_the_same_weights_with_a_warm_cache(tiny_images):
    digests = []
    for _ in range(2):  # cold cache, then warm
        torch.manual_seed(0)
        aelab.fit(aelab.mlp_autoencoder((1, 8, 8), 6, corruption=aelab.MaskingNoise(0.4)), tiny_images, epochs=2,
                  cache="first", progress=False)
        digests.append(sha(aelab.mlp_autoencoder((1, 8, 8), 6)))
    assert digests[0] == digests[1]


@pytest.mark.parametrize("seed", [0, 7, -3, 2**40, 2**64 + 5, 10**30, np.int64(9)])
def test_builder_seed_gives_the_weights_of_manual_seed_then_build(seed):
    model = aelab.mlp_autoencoder((1, 6, 6), 5, hidden=(7,), seed=seed)
    if -2**63 <= int(seed) < 2**64:
        torch.manual_seed(int(seed))
        assert sha(model) == sha(aelab.mlp_autoencoder((1, 6, 6), 5, hidden=(7,)))
    assert sha(model) == sha(aelab.mlp_autoencoder((1, 6, 6), 5, hidden=(7,), seed=seed))


@pytest.mark.parametrize("seed", [0, -1, 2**63 + 1, 10**40])
def test_any_integer_seed_works_in_fit(tiny_images, seed):
    runs = [aelab.fit(aelab.mlp_autoencoder((1, 8, 8), 4, corruption=aelab.MaskingNoise(0.2), seed=1),
                      tiny_images[:64], epochs=2, batch_size=16, seed=seed, progress=False).train for _ in range(2)]
    assert runs[0] == runs[1]


@pytest.mark.parametrize("seed", [1.5, "0", True, None])
def test_a_seed_that_is_not_an_integer_is_refused_clearly(tiny_images, seed):
    with pytest.raises(ValueError, match="seed must be an integer"):
        aelab.fit(aelab.mlp_autoencoder((1, 8, 8), 4), tiny_images, epochs=1, seed=seed, progress=False)


def test_a_generator_seed_is_reproducible_and_draws_once(tiny_images):
    def run():
        model = aelab.mlp_autoencoder((1, 8, 8), 4, corruption=aelab.MaskingNoise(0.2), seed=1)
        return aelab.fit(model, tiny_images[:64], epochs=2, batch_size=16, seed=torch.Generator().manual_seed(4),
                         progress=False).train
    assert run() == run()


@pytest.mark.parametrize("corruption", [aelab.MaskingNoise(0.3), aelab.GaussianNoise(0.5), aelab.SaltAndPepper(0.2)])
def test_corruptions_draw_from_the_generator_they_are_given(corruption):
    x = torch.rand(4, 1, 5, 5, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(9)
    old_way = corruption(x)
    state = torch.random.get_rng_state()
    new_way = corruption(x, generator=torch.Generator().manual_seed(9))
    assert torch.equal(old_way, new_way) and torch.equal(state, torch.random.get_rng_state())


# ---- interrupt anywhere --------------------------------------------------------------------


class Watch:
    """A hook that records the weights at the start of each epoch (the end of the one before)."""

    def __init__(self):
        self.seen = {}

    def __call__(self, epoch, model, optimizer):
        self.seen[epoch] = sha(model)

    def describe(self):
        return "watch"  # it changes nothing


def _lines_to_interrupt(run):
    """Every line event in aelab's training code while ``run`` trains (in order)."""
    files = {train_module.__file__, cache_module.__file__}
    events = []

    def tracer(frame, event, arg):
        if frame.f_code.co_filename not in files:
            return None
        if event == "line":
            events.append((frame.f_code.co_name, frame.f_lineno))
        return tracer

    sys.settrace(tracer)
    try:
        run()
    finally:
        sys.settrace(None)
    return events


def _interrupt_at(run, n):
    """Run ``run`` raising KeyboardInterrupt before the n-th line event of aelab's training code."""
    files = {train_module.__file__, cache_module.__file__}
    count = [0]

    def tracer(frame, event, arg):
        if frame.f_code.co_filename not in files:
            return None
        if event == "line":
            count[0] += 1
            if count[0] == n:
                sys.settrace(None)
                raise KeyboardInterrupt
        return tracer

    sys.settrace(tracer)
    try:
        return run()
    finally:
        sys.settrace(None)


def test_an_interrupt_before_any_line_of_training_leaves_a_consistent_run_that_resumes_exactly(tiny_images,
                                                                                             monkeypatch):
    """Ctrl-C before every line of aelab's training code (the first and the last time each line runs:
    the epoch loop, the periodic and the final save, the checkpoint code), then resume."""
    monkeypatch.setattr(train_module, "SAVE_EVERY_S", 0.0)  # a periodic save after every epoch
    x, x_val = tiny_images[:32], tiny_images[32:40]
    settings = dict(epochs=3, batch_size=16, seed=4, schedule="cosine", progress=False)

    def build():
        return aelab.mlp_autoencoder((1, 8, 8), 5, corruption=aelab.MaskingNoise(0.3), seed=2)

    watch = Watch()
    reference_model = build()
    reference = aelab.fit(reference_model, (x, x_val), hooks=[watch], **settings)
    per_epoch = {**watch.seen, 3: sha(reference_model)}
    events = _lines_to_interrupt(lambda: aelab.fit(build(), (x, x_val), cache="probe", hooks=[Watch()], **settings))
    cache_module.clear()
    first, last = {}, {}
    for n, event in enumerate(events, 1):
        first.setdefault(event, n)
        last[event] = n
    checked = 0
    # every line once; the lines of the loop itself and of saving also the last time they run
    loop = {"fit", "save"}
    for n in sorted(set(first.values()) | {n for event, n in last.items() if event[0] in loop}):
        cache_module.clear()
        model = build()
        try:
            history = _interrupt_at(lambda m=model: aelab.fit(m, (x, x_val), cache="run", hooks=[Watch()],
                                                              **settings), n)
        except KeyboardInterrupt:
            continue  # raised while validating, before training began: nothing to be consistent with
        finally:
            # an exception injected by a tracer at a `with` line can skip torch.no_grad()'s __exit__
            torch.set_grad_enabled(True)
        where = f"interrupt before line event {n} {events[n - 1]}"
        done = history.epochs_done
        assert sha(model) == per_epoch[done], f"{where}: the weights are not those of epoch {done}"
        assert history.train == ({k: v[:done] for k, v in reference.train.items()} if done else {}), where
        assert history.interrupted == (done < 3), where
        stored = cache_module.entries()
        assert (stored[0]["epochs"], stored[0]["complete"]) == (done, done == 3) if stored else done == 0, where
        if done < 3:  # the same model object resumes, bit-identical to the uninterrupted run
            resumed = aelab.fit(model, (x, x_val), cache="run", hooks=[Watch()], **settings)
        else:  # complete: a fresh build loads it
            model = build()
            resumed = aelab.fit(model, (x, x_val), cache="run", hooks=[Watch()], **settings)
            assert resumed.from_cache, where
        assert sha(model) == per_epoch[3], f"{where}: the resumed run diverged"
        assert resumed.train == reference.train and resumed.val == reference.val, where
        checked += 1
    assert checked > 100


def test_the_same_model_object_resumes_without_a_cache(tiny_images):
    reference_model = aelab.mlp_autoencoder((1, 8, 8), 5, seed=0)
    reference = aelab.fit(reference_model, tiny_images, epochs=4, batch_size=32, progress=False)
    model = aelab.mlp_autoencoder((1, 8, 8), 5, seed=0)

    class Stop:
        def __call__(self, epoch, m, o):
            if epoch == 2 and not getattr(self, "done", False):
                self.done = True
                raise KeyboardInterrupt

    stop = Stop()
    first = aelab.fit(model, tiny_images, epochs=4, batch_size=32, hooks=[stop], progress=False)
    assert first.interrupted and first.epochs_done == 2
    second = aelab.fit(model, tiny_images, epochs=4, batch_size=32, hooks=[stop], progress=False)
    assert second.complete and second.train == reference.train and sha(model) == sha(reference_model)


# ---- divergence ----------------------------------------------------------------------------


class BlowUpOnLastStep:
    """A hook-free way to make the very last optimizer step produce infinite weights."""

    def __init__(self, model, steps):
        self.model, self.steps, self.calls = model, steps, 0

    def __call__(self, closure=None):
        self.calls += 1
        result = self.original(closure) if closure else self.original()
        if self.calls == self.steps:
            with torch.no_grad():
                next(self.model.parameters()).fill_(float("inf"))
        return result


@pytest.mark.parametrize("with_val", [True, False])
def test_a_blow_up_on_the_last_step_is_caught_and_never_cached(tiny_images, monkeypatch, with_val):
    model = aelab.mlp_autoencoder((1, 8, 8), 5, seed=0)
    original = train_module._make_optimizer

    def make(*args):
        opt = original(*args)
        hook = BlowUpOnLastStep(model, steps=2 * 4)  # 2 epochs of 4 batches
        hook.original = opt.step
        opt.step = hook
        return opt

    monkeypatch.setattr(train_module, "_make_optimizer", make)
    data = (tiny_images[:128], tiny_images[128:]) if with_val else tiny_images[:128]
    with pytest.raises(aelab.TrainingDivergedError, match="in epoch 2"):
        aelab.fit(model, data, epochs=2, batch_size=32, cache="blowup", progress=False)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert all(e["complete"] is not True for e in cache_module.entries())


def test_initial_weights_that_give_no_finite_loss_fail_before_training(tiny_images):
    model = aelab.mlp_autoencoder((1, 8, 8), 5, seed=0)
    with torch.no_grad():
        model.filters[0, 0] = float("nan")
    with pytest.raises(aelab.TrainingDivergedError, match="initial weights"):
        aelab.fit(model, tiny_images, epochs=1, progress=False)


def test_a_non_finite_run_is_never_saved_as_complete(tiny_images):
    model = aelab.mlp_autoencoder((1, 8, 8), 5, seed=0)
    checkpoint = train_module.Checkpoint("bad", {"x": 1})
    history = aelab.History(train={"loss": [float("inf")]}, epochs=1)
    state = train_module._State(model.state_dict(), {}, None, history)
    with pytest.raises(aelab.TrainingDivergedError, match="non-finite"):
        checkpoint.save(state, complete=True)


# ---- cache identity ------------------------------------------------------------------------


def test_closure_hooks_with_other_factors_are_refused_not_loaded_stale(tiny_images):
    def scale_lr(factor):
        def hook(epoch, model, optimizer):
            for group in optimizer.param_groups:
                group["lr"] *= factor
        return hook

    with pytest.raises(aelab.CacheKeyError, match="describe()"):
        aelab.fit(aelab.mlp_autoencoder((1, 8, 8), 4, seed=0), tiny_images, epochs=1, hooks=[scale_lr(0.5)],
                  cache="closure", progress=False)
    # without a cache there is nothing to confuse: it trains
    aelab.fit(aelab.mlp_autoencoder((1, 8, 8), 4, seed=0), tiny_images, epochs=1, hooks=[scale_lr(0.5)],
              progress=False)


def test_a_lambda_corruption_and_a_penalty_without_repr_are_refused_with_a_cache(tiny_images):
    lam = aelab.mlp_autoencoder((1, 8, 8), 4, corruption=lambda x: x * 0.5, seed=0)
    with pytest.raises(aelab.CacheKeyError, match="corruption"):
        aelab.fit(lam, tiny_images, epochs=1, cache="lam", progress=False)

    class Plain:
        name = "plain"

        def __call__(self, model, x, code):
            return code.abs().mean()

    with pytest.raises(aelab.CacheKeyError, match="penalty"):
        aelab.fit(aelab.mlp_autoencoder((1, 8, 8), 4, penalties=[Plain()], seed=0), tiny_images, epochs=1,
                  cache="plain", progress=False)


def test_a_described_object_keys_by_its_settings_and_hits_the_cache(tiny_images):
    class Scaled:
        name = "scaled"

        def __init__(self, weight):
            self.weight = weight

        def __call__(self, model, x, code):
            return self.weight * code.abs().mean()

        def describe(self):
            return f"Scaled(weight={self.weight})"

    def run(weight):
        return aelab.fit(aelab.mlp_autoencoder((1, 8, 8), 4, penalties=[Scaled(weight)], seed=0), tiny_images,
                         epochs=1, cache="scaled", progress=False)

    assert not run(0.1).from_cache
    assert run(0.1).from_cache
    assert not run(0.2).from_cache  # another setting: retrained, never the stale result


def test_the_key_holds_no_memory_address_and_module_state(tiny_images, capsys):
    class Scaler(nn.Module):
        def __init__(self, factor):
            super().__init__()
            self.factor = factor  # plain state the weights don't hold

        def forward(self, z):
            return z * self.factor

    def build(factor):
        encoder = nn.Sequential(aelab.mlp_encoder((1, 8, 8), 4, seed=0), Scaler(factor))
        return aelab.Autoencoder(encoder, aelab.mlp_decoder((1, 8, 8), 4, seed=1))

    aelab.fit(build(1.0), tiny_images, epochs=1, cache="scaler", progress=False)
    payload = cache_module._decode(cache_module.entry_path("scaler").read_bytes())
    assert " at 0x" not in payload["config"]
    assert aelab.fit(build(1.0), tiny_images, epochs=1, cache="scaler", progress=False).from_cache
    assert not aelab.fit(build(2.0), tiny_images, epochs=1, cache="scaler", progress=False).from_cache
    assert "model.state" in capsys.readouterr().err


# ---- cache integrity -----------------------------------------------------------------------


def _train(tiny_images, name="entry", **kw):
    return aelab.fit(aelab.mlp_autoencoder((1, 8, 8), 4, seed=0, **kw), tiny_images, epochs=2, batch_size=64,
                     cache=name, progress=False)


def test_one_flipped_byte_in_a_weight_is_detected_moved_aside_and_retrained(tiny_images, capsys):
    _train(tiny_images)
    path = cache_module.entry_path("entry")
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    history = _train(tiny_images)
    assert not history.from_cache and history.complete
    assert "unreadable" in capsys.readouterr().err and path.with_suffix(".pt.corrupt").exists()
    assert _train(tiny_images).from_cache


@pytest.mark.parametrize("damage", ["foreign_state_dict", "missing_history", "nan_weights", "short_history"])
def test_a_readable_but_wrong_entry_is_treated_as_corrupt(tiny_images, capsys, damage):
    _train(tiny_images)
    path = cache_module.entry_path("entry")
    payload = cache_module._decode(path.read_bytes())
    payload.pop("format")
    if damage == "foreign_state_dict":
        payload["state_dict"] = {"weight": torch.zeros(3)}
    elif damage == "missing_history":
        payload.pop("history")
    elif damage == "nan_weights":
        payload["state_dict"] = {k: torch.full_like(v, float("nan")) for k, v in payload["state_dict"].items()}
    else:
        payload["history"]["train"]["loss"] = payload["history"]["train"]["loss"][:1]
    cache_module.save("entry", payload)  # a valid checksum: readable, but wrong
    history = _train(tiny_images)
    err = capsys.readouterr().err
    assert not history.from_cache and history.complete and "readable but wrong" in err
    assert path.with_suffix(".pt.corrupt").exists() and _train(tiny_images).from_cache


def test_two_processes_meeting_the_same_corrupt_entry(tiny_images, monkeypatch, capsys):
    _train(tiny_images)
    path = cache_module.entry_path("entry")
    path.write_bytes(b"garbage")
    real_replace = os.replace

    def other_process_was_first(src, dst):
        if str(src).endswith(".pt"):
            real_replace(src, dst)  # the other process moves it aside first ...
        return real_replace(src, dst)  # ... so ours finds nothing to move

    monkeypatch.setattr(os, "replace", other_process_was_first)
    history = _train(tiny_images)
    assert history.complete and "another process already moved it aside" in capsys.readouterr().err


# ---- the cache folder fails, the training survives ------------------------------------------


def test_a_full_disk_warns_and_returns_the_trained_model(tiny_images, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cache_module.os, "fsync", full)
    with pytest.warns(RuntimeWarning, match="No space left on device.*not saved"):
        history = _train(tiny_images)
    assert history.complete and history.epochs_done == 2
    assert not list(cache_module.cache_dir().glob("*.tmp"))


def test_a_read_only_folder_warns_before_training_and_still_trains(tiny_images, monkeypatch):
    monkeypatch.setattr(train_module.os, "access", lambda path, mode: False)
    with pytest.warns(RuntimeWarning, match="read-only.*not saved"):
        history = _train(tiny_images)
    assert history.complete


def test_a_file_where_the_cache_folder_should_be(tiny_images, monkeypatch, tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    monkeypatch.setenv("AELAB_CACHE_DIR", str(blocker))
    with pytest.warns(RuntimeWarning, match="cannot write to the cache folder"):
        history = _train(tiny_images)
    assert history.complete


def test_a_name_too_long_for_the_file_system_fails_before_training(tiny_images, monkeypatch):
    started = []
    monkeypatch.setattr(train_module, "_train_one_epoch", lambda *a: started.append(1))
    with pytest.raises(ValueError, match="choose a name of at most"):
        _train(tiny_images, name="n" * 250)
    assert not started


# ---- the objective is open -----------------------------------------------------------------


class TinyVAE(aelab.Autoencoder):
    """A variational autoencoder: the encoder gives (mean, log variance); one more loss term."""

    def __init__(self, shape, latent, beta=1.0, seed=0):
        super().__init__(aelab.mlp_encoder(shape, 2 * latent, code_activation=None, seed=seed),
                         aelab.mlp_decoder(shape, latent, seed=seed + 1))
        self.beta = beta

    def encode(self, x):
        return self.encoder(x).chunk(2, dim=1)[0]

    def loss(self, x, generator=None):
        mean, log_var = self.encoder(x).chunk(2, dim=1)
        if self.training:
            noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
            code = mean + noise * (0.5 * log_var).exp()
        else:
            code = mean
        terms = {"reconstruction": self.reconstruction_loss(self.decode(code, activate=False), x),
                 "kl": self.beta * 0.5 * (mean**2 + log_var.exp() - 1 - log_var).sum(1).mean()}
        return sum(terms.values()), terms


def test_a_vae_needs_no_change_to_fit_history_or_the_cache(tiny_images):
    data = (tiny_images[:150], tiny_images[150:])
    history = aelab.fit(TinyVAE((1, 8, 8), 3), data, epochs=2, batch_size=32, cache="vae", progress=False)
    assert set(history.train) == set(history.val) == {"loss", "reconstruction", "kl"}
    assert all(math.isfinite(v) for v in history.val["kl"])
    again = aelab.fit(TinyVAE((1, 8, 8), 3), data, epochs=2, batch_size=32, cache="vae", progress=False)
    assert again.from_cache and again.train == history.train
    assert not aelab.fit(TinyVAE((1, 8, 8), 3, beta=2.0), data, epochs=2, batch_size=32, cache="vae",
                         progress=False).from_cache  # a plain attribute of the model is in the key
    assert aelab.evaluate(TinyVAE((1, 8, 8), 3), data[1]).keys() == {"loss", "reconstruction", "kl"}


def test_training_goes_through_encode(tiny_images):
    class Doubled(aelab.Autoencoder):
        def encode(self, x):
            return 2 * self.encoder(x)

    def build(cls):
        return cls(aelab.mlp_encoder((1, 8, 8), 4, seed=0), aelab.mlp_decoder((1, 8, 8), 4, seed=1))

    plain = aelab.fit(build(aelab.Autoencoder), tiny_images, epochs=1, progress=False)
    doubled = aelab.fit(build(Doubled), tiny_images, epochs=1, progress=False)
    assert plain.train["loss"] != doubled.train["loss"]


def test_the_output_and_loss_choice_is_an_object():
    bce = aelab.mlp_autoencoder((1, 4, 4), 3, seed=0)
    mse = aelab.mlp_autoencoder((1, 4, 4), 3, output="linear", seed=0)
    assert isinstance(bce.objective, aelab.BernoulliCrossEntropy) and isinstance(mse.objective, aelab.SquaredError)
    assert (bce.output, bce.loss_name, mse.output, mse.loss_name) == ("sigmoid", "bce", "linear", "mse")
    custom = aelab.Autoencoder(bce.encoder, bce.decoder, objective=aelab.SquaredError("sigmoid"))
    x = torch.rand(5, 1, 4, 4)
    expected = ((torch.sigmoid(custom.decoder(custom.encoder(x))) - x) ** 2).flatten(1).sum(1).mean()
    torch.testing.assert_close(custom.eval().loss(x)[1]["reconstruction"], expected)


# ---- named parts, environment, bad inputs ---------------------------------------------------


def test_named_parts_do_not_depend_on_layer_positions():
    mlp = aelab.mlp_autoencoder((1, 8, 8), 6, hidden=(10,), seed=0)
    assert mlp.filters is mlp.encoder[1].weight and mlp.filters.shape == (10, 64)
    assert mlp.code_layer is mlp.encoder[3]
    x = torch.rand(3, 1, 8, 8)
    torch.testing.assert_close(mlp.code_pre_activation(x), mlp.encoder[:4](x))
    conv = aelab.Autoencoder(aelab.conv_encoder((1, 8, 8), 5, seed=0), aelab.conv_decoder((1, 8, 8), 5, seed=0))
    assert isinstance(conv.first_layer, nn.Conv2d) and conv.filters is conv.encoder[0].weight
    assert conv.code_layer.out_features == 5
    assert mlp.output_layer is mlp.decoder[2] and mlp.output_layer.weight.shape == (64, 10)
    torch.testing.assert_close(mlp.first_layer_output(x), torch.sigmoid(mlp.encoder[:2](x)))
    relu = aelab.mlp_autoencoder((1, 8, 8), 6, hidden=(10,), activation="relu", seed=0)
    assert (relu.first_layer_output(x) >= 0).all() and relu.first_layer_output(x).shape == (3, 10)
    tied = aelab.mlp_autoencoder((1, 8, 8), 6, tied=True, seed=0)
    assert tied.output_layer.weight.data_ptr() == tied.filters.data_ptr()
    torch.testing.assert_close(tied.output_layer.weight, tied.filters.T)


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), (" YES ", True), ("on", True),
                                             ("0", False), ("false", False), ("", False), ("no", False)])
def test_one_rule_for_yes_no_variables(monkeypatch, value, expected):
    monkeypatch.setenv("AELAB_FAST", value)
    from aelab import course

    assert aelab.config.fast() is expected and course.is_fast() is expected


def test_a_yes_no_variable_that_is_neither_is_an_error(monkeypatch):
    monkeypatch.setenv("AELAB_FAST", "ture")
    with pytest.raises(ValueError, match="AELAB_FAST='ture' is not a yes/no value"):
        aelab.config.fast()


def test_a_float64_batch_for_a_float32_model_is_a_dtype_message(tiny_images):
    with pytest.raises(TypeError, match="dtype torch.float64 but the model's weights are torch.float32"):
        aelab.fit(aelab.mlp_autoencoder((1, 8, 8), 4, seed=0), tiny_images.double(), epochs=1, progress=False)


def test_top_k_above_the_code_size_fails_when_the_model_is_built():
    with pytest.raises(ValueError, match=r"TopK\(k=12\) keeps k units of a code of 10 units"):
        aelab.mlp_autoencoder((1, 8, 8), 10, code_activation=aelab.TopK(12))
    with pytest.raises(ValueError, match="TopK"):
        aelab.conv_encoder((1, 8, 8), 4, code_activation=aelab.TopK(5))


def test_no_warning_on_a_healthy_cache(tiny_images):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _train(tiny_images)
        assert _train(tiny_images).from_cache
