import json

import pytest

from aelab import course


def test_fast_claims_are_asserted_and_recorded(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AELAB_RESULTS_DIR", str(tmp_path / "raw"))
    claims = course.Claims("99_demo", "digits", fast=True)
    assert claims.check("error is small", 0.01, below=0.05) is None  # no Out[n]: True echo in a notebook
    assert claims.held("error is small")
    assert "✔ error is small: 0.01 (claim: < 0.05)" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="measured 0.2, expected > 0.5"):
        claims.check("accuracy beats chance", 0.2, above=0.5)
    record = json.loads((tmp_path / "raw" / "99_demo__digits__fast.json").read_text())
    assert [c["holds"] for c in record["claims"]] == [True, False] and record["size"] == "fast"


def test_full_tier_claims_are_only_reported_at_the_fast_size(capsys):
    fast = course.Claims("99_demo", "digits", fast=True)
    fast.check("needs many epochs", 3.0, below=1.0, tier="full")
    assert fast.held("needs many epochs") is False
    assert "not asserted at the fast size" in capsys.readouterr().out
    with pytest.raises(AssertionError):
        course.Claims("99_demo", "digits", fast=False).check("needs many epochs", 3.0, below=1.0, tier="full")


def test_held_names_a_claim_that_was_checked():
    claims = course.Claims("99_demo", "digits", fast=True)
    with pytest.raises(KeyError, match="no claim"):
        claims.held("never checked")


def test_nan_never_satisfies_a_claim():
    with pytest.raises(AssertionError):
        course.Claims("99_demo", "digits", fast=True).check("x", float("nan"), below=1.0)


def test_claim_needs_a_bound_and_a_known_tier():
    claims = course.Claims("99_demo", "digits", fast=True)
    with pytest.raises(ValueError, match="bound"):
        claims.check("x", 1.0)
    with pytest.raises(ValueError, match="tier"):
        claims.check("x", 1.0, below=2, tier="slow")


def test_is_fast_reads_the_environment(monkeypatch):
    assert course.is_fast() is False
    monkeypatch.setenv("AELAB_FAST", "1")
    assert course.is_fast() is True


def test_load_dataset_refuses_unsupported_data():
    with pytest.raises(RuntimeError, match="supports mnist, fashion-mnist, not 'digits'"):
        course.load_dataset("digits", supported=("mnist", "fashion-mnist"))


def test_setup_prints_versions_and_device(capsys):
    device = course.setup(seed=3, device="cpu")
    out = capsys.readouterr().out
    assert device.type == "cpu" and "torch" in out and "Device: cpu" in out and "seed 3" in out


def test_numpy_values_and_bounds_are_recorded(tmp_path, monkeypatch):
    import numpy as np

    monkeypatch.setenv("AELAB_RESULTS_DIR", str(tmp_path / "raw"))
    claims = course.Claims("99_demo", "digits", fast=False)
    claims.check("gap", np.float64(0.3), above=np.float64(0.1), below=np.float32(1.0))
    record = json.loads((tmp_path / "raw" / "99_demo__digits__full.json").read_text())
    assert record["claims"][0]["holds"] is True and record["claims"][0]["bound"] == "> 0.1 and < 1"


def test_a_long_claim_line_wraps_to_the_width_without_splitting_its_value(capsys):
    claims = course.Claims("nb", "digits", fast=False)
    claim = "train squared error (sum over pixels, mean over images) = sum of discarded eigenvalues (max deviation)"
    claims.check(claim, 2.714e-16, below=1e-9)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(len(line) <= course.WIDTH for line in lines)
    assert lines[1].startswith("  ") and lines[1].endswith("2.714e-16 (claim: < 1e-09)")
    assert " ".join(line.strip() for line in lines) == f"✔ {claim}: 2.714e-16 (claim: < 1e-09)"


def test_setup_prints_lines_that_fit_the_width(capsys):
    course.setup(seed=0, device="cpu")
    assert all(len(line) <= course.WIDTH for line in capsys.readouterr().out.splitlines())
