import math

import pytest
import torch

import aelab
from aelab import cache as cache_module


def small_model(seed=0, **kwargs):
    aelab.seed_everything(seed)
    return aelab.mlp_autoencoder((1, 8, 8), code=6, **kwargs)


def test_fit_returns_history_with_every_term(tiny_images):
    model = small_model(penalties=[aelab.KLSparsity(0.1, 1.0)])
    history = aelab.fit(model, (tiny_images[:150], tiny_images[150:]), epochs=3, batch_size=32, progress=False)
    assert history.epochs_done == 3 and history.complete and not history.from_cache
    assert set(history.train) == {"loss", "reconstruction", "kl_sparsity"} == set(history.val)
    for k in history.train:
        assert all(math.isfinite(v) for v in history.train[k])
    assert history.train["loss"][-1] < history.train["loss"][0]
    ax = history.plot()
    assert ax.get_xlabel() == "epoch" and ax.get_title()


def test_same_seed_same_losses_on_cpu(tiny_images):
    runs = []
    for _ in range(2):
        model = small_model(corruption=aelab.MaskingNoise(0.3))
        runs.append(aelab.fit(model, tiny_images, epochs=3, batch_size=16, seed=7, device="cpu", progress=False).train)
    assert runs[0] == runs[1]
    other = aelab.fit(small_model(corruption=aelab.MaskingNoise(0.3)), tiny_images, epochs=3, batch_size=16, seed=8,
                      progress=False).train
    assert other != runs[0]


def test_losses_are_synced_once_per_epoch_not_per_batch(tiny_images, monkeypatch):
    calls = {"item": 0, "tolist": 0}
    original_item, original_tolist = torch.Tensor.item, torch.Tensor.tolist

    def item(self):
        calls["item"] += 1
        return original_item(self)

    def tolist(self):
        calls["tolist"] += 1
        return original_tolist(self)

    monkeypatch.setattr(torch.Tensor, "item", item)
    monkeypatch.setattr(torch.Tensor, "tolist", tolist)
    aelab.fit(small_model(), tiny_images, epochs=2, batch_size=8, progress=False)  # 25 batches an epoch
    assert calls["item"] == 0 and calls["tolist"] == 2


@pytest.mark.parametrize("kwargs, match", [
    ({"epochs": 0}, "epochs must be a positive integer"),
    ({"epochs": 2.5}, "epochs must be a positive integer"),
    ({"lr": -1e-3}, "lr must be a positive"),
    ({"lr": float("nan")}, "lr must be a positive"),
    ({"batch_size": 0}, "batch_size"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"schedule": "step"}, "schedule"),
    ({"weight_decay": -1.0}, "weight_decay"),
])
def test_bad_settings_fail_before_training(tiny_images, kwargs, match):
    settings = {"epochs": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        aelab.fit(small_model(), tiny_images, progress=False, **settings)


def test_bad_inputs_fail_with_a_clear_message(tiny_images):
    model = small_model()
    with pytest.raises(ValueError, match="cannot process inputs of shape"):
        aelab.fit(model, torch.rand(10, 1, 28, 28), epochs=1)
    with pytest.raises(TypeError, match="floating-point"):
        aelab.fit(model, (tiny_images * 255).to(torch.uint8), epochs=1)
    bad = tiny_images.clone()
    bad[3, 0, 2, 2] = float("nan")
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        aelab.fit(model, bad, epochs=1)
    with pytest.raises(ValueError, match=r"targets in \[0, 1\]"):
        aelab.fit(model, tiny_images * 255, epochs=1)
    with pytest.raises(TypeError, match="Dataset, a tensor"):
        aelab.fit(model, [1, 2, 3], epochs=1)


class ExplodesAt:
    """A penalty that turns NaN from a given epoch on (counted by training calls)."""

    name = "explodes"

    def __init__(self, after_calls):
        self.after_calls, self.calls = after_calls, 0

    def __call__(self, model, x, code):
        self.calls += model.training
        return code.sum() * (float("nan") if self.calls > self.after_calls else 0.0)


def test_nan_loss_stops_with_the_epoch_and_keeps_last_good_weights(tiny_images):
    penalty = ExplodesAt(after_calls=2 * 7)  # 200 images / 32 = 7 batches: diverges in epoch 3
    model = small_model(penalties=[penalty])
    snapshots = []
    with pytest.raises(aelab.TrainingDivergedError, match="in epoch 3.*after epoch 2"):
        aelab.fit(model, tiny_images, epochs=5, batch_size=32, progress=False,
                  hooks=[lambda epoch, m, opt: snapshots.append({k: v.clone() for k, v in m.state_dict().items()})])
    for key, value in model.state_dict().items():
        assert torch.isfinite(value).all()
        torch.testing.assert_close(value, snapshots[2][key])


class Interrupt:
    """A hook that presses Ctrl-C at the start of one epoch (None: never); it changes no result,
    so every instance describes itself alike and the interrupted and resumed runs share a key."""

    def __init__(self, epoch_to_stop=None):
        self.epoch_to_stop = epoch_to_stop

    def __call__(self, epoch, model, optimizer):
        if epoch == self.epoch_to_stop:
            raise KeyboardInterrupt

    def describe(self):
        return "interrupt"


def interrupt_at(epoch_to_stop):
    return Interrupt(epoch_to_stop)


def test_interrupt_keeps_weights_saves_partial_and_resumes_exactly(tiny_images):
    noop = Interrupt()
    reference = aelab.fit(small_model(), tiny_images, epochs=4, batch_size=32, hooks=[noop], progress=False)

    model = small_model()
    history = aelab.fit(model, tiny_images, epochs=4, batch_size=32, cache="resume", hooks=[interrupt_at(2)],
                        progress=False)
    assert history.interrupted and history.epochs_done == 2 and not history.complete
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert cache_module.entries()[0]["complete"] is False

    resumed = aelab.fit(small_model(), tiny_images, epochs=4, batch_size=32, cache="resume", hooks=[noop],
                        progress=False)
    assert resumed.complete and not resumed.from_cache
    assert resumed.train["loss"] == pytest.approx(reference.train["loss"], rel=1e-6)


def test_cache_round_trip_loads_instead_of_training(tiny_images):
    model = small_model()
    first = aelab.fit(model, tiny_images, epochs=2, batch_size=32, cache="demo", progress=False)
    again = small_model()
    second = aelab.fit(again, tiny_images, epochs=2, batch_size=32, cache="demo", progress=False,
                       hooks=[Interrupt()])
    assert not second.from_cache  # the hook is part of the key: a different experiment
    third_model = small_model()
    third = aelab.fit(third_model, tiny_images, epochs=2, batch_size=32, cache="demo", progress=False,
                      hooks=[Interrupt()])
    assert third.from_cache and third.train == second.train
    for a, b in zip(again.state_dict().values(), third_model.state_dict().values()):
        assert torch.equal(a, b)
    assert first.complete


def test_rng_after_fit_is_the_same_whether_trained_or_loaded(tiny_images):
    """fit neither reads nor changes torch's global generator, so the next model a notebook builds
    gets the same initial weights whether fit trained or loaded (else it misses its own cache entry)."""
    after = []
    for _ in range(2):                    # first trains, second loads from the cache
        torch.manual_seed(11)
        history = aelab.fit(small_model(corruption=aelab.MaskingNoise(0.3)), tiny_images, epochs=2,
                            cache="noisy", progress=False)
        after.append((history.from_cache, torch.rand(3)))
    assert [a[0] for a in after] == [False, True]
    assert torch.equal(after[0][1], after[1][1])


def test_changed_settings_retrain_and_say_what_changed(tiny_images, capsys):
    aelab.fit(small_model(), tiny_images, epochs=1, cache="demo", progress=False)
    history = aelab.fit(small_model(), tiny_images, epochs=1, lr=2e-3, cache="demo", progress=False)
    assert not history.from_cache and "changed: fit.lr" in capsys.readouterr().err


def test_corrupt_checkpoint_is_reported_and_retrained(tiny_images, capsys):
    aelab.fit(small_model(), tiny_images, epochs=1, cache="demo", progress=False)
    path = cache_module.entry_path("demo")
    path.write_bytes(b"this is not a checkpoint")
    history = aelab.fit(small_model(), tiny_images, epochs=1, cache="demo", progress=False)
    assert not history.from_cache and history.complete
    assert "unreadable" in capsys.readouterr().err and path.with_suffix(".pt.corrupt").exists()
    assert aelab.fit(small_model(), tiny_images, epochs=1, cache="demo", progress=False).from_cache


def test_hooks_are_replayed_when_loading_from_cache(tiny_images):
    def build():
        aelab.seed_everything(0)
        return aelab.mlp_autoencoder((1, 8, 8), code=20, tied=True, code_activation=aelab.TopK(15))

    model = build()
    aelab.fit(model, tiny_images, epochs=3, hooks=[aelab.anneal_k(model.encoder[2], 15, 5, 2)], cache="k",
              progress=False)
    assert model.encoder[2].k == 5
    loaded = build()
    history = aelab.fit(loaded, tiny_images, epochs=3, hooks=[aelab.anneal_k(loaded.encoder[2], 15, 5, 2)],
                        cache="k", progress=False)
    assert history.from_cache and loaded.encoder[2].k == 5


def test_fit_on_unavailable_device_is_a_clear_error(tiny_images, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        aelab.fit(small_model(), tiny_images, epochs=1, device="cuda")


def test_predict_batches_and_restores_mode(tiny_images):
    model = small_model(corruption=aelab.MaskingNoise(0.5))
    model.train()
    codes = aelab.predict(model.encode, tiny_images, batch_size=64)
    assert codes.shape == (200, 6) and model.training
    torch.testing.assert_close(aelab.predict(model, tiny_images), model.eval()(tiny_images))
    with pytest.raises(TypeError, match="bound method"):
        aelab.predict(lambda x: x, tiny_images)


def test_evaluate_matches_loss_without_corruption(tiny_images):
    model = small_model(corruption=aelab.MaskingNoise(0.5)).eval()
    expected = model.loss(tiny_images)[0].item()
    assert aelab.evaluate(model, tiny_images, batch_size=64)["loss"] == pytest.approx(expected, rel=1e-5)


def test_progress_lines_in_ci(tiny_images, monkeypatch, capsys):
    monkeypatch.setenv("CI", "true")
    aelab.fit(small_model(), tiny_images, epochs=8, progress="auto")
    lines = [line for line in capsys.readouterr().out.splitlines() if "epoch" in line]
    assert 2 <= len(lines) <= 6 and lines[-1].startswith("[Autoencoder 64-6-64] epoch 8/8")


def test_progress_and_messages_use_the_label_not_the_cache_key(tiny_images, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("AELAB_CACHE_DIR", str(tmp_path))
    aelab.fit(small_model(), tiny_images, epochs=2, cache="run_key_x", label="plain AE, code 6")
    trained = capsys.readouterr().out
    assert "[plain AE, code 6] epoch 2/2" in trained and "run_key_x" not in trained
    # the label is not part of the cache key: another label finds the same entry
    history = aelab.fit(small_model(), tiny_images, epochs=2, cache="run_key_x", label="another name")
    assert history.from_cache and "another name: loaded from the cache (2 epochs)." in capsys.readouterr().out


@pytest.mark.parametrize("label", ["", "   ", 3])
def test_a_label_must_be_a_non_empty_string(tiny_images, label):
    with pytest.raises(ValueError, match="label must be a non-empty string"):
        aelab.fit(small_model(), tiny_images, epochs=1, label=label)


def test_progress_bar_redraws_at_most_once_a_second():
    # each redraw of a notebook bar is several kernel messages; a cell training many models must stay
    # under Jupyter's output queue limit (1000 messages), or the cell's end is dropped and nbval times out
    from aelab.train import _Progress

    progress = _Progress("bar", 300, "redraw count")
    redraws = []
    progress.bar.refresh = lambda *args, **kwargs: redraws.append(1)
    for epoch in range(1, 301):
        progress.update(epoch, {"loss": 1.0 / epoch}, {"loss": 2.0 / epoch})
    assert progress.bar.n == 300
    assert len(redraws) <= 3, f"{len(redraws)} redraws for 300 quick epochs"
    assert "val" in progress.bar.postfix
    progress.bar.refresh = type(progress.bar).refresh.__get__(progress.bar)
    progress.close()
