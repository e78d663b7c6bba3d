"""The machinery shared by every exercise check: strict and ordinary mode, messages for any student code."""

import random

import numpy as np
import pytest
import torch

from aelab.checks import Case, Exercise, ExerciseFailed, _core

double = Exercise("double", lambda x: x * 2, lambda: [(torch.ones(3, dtype=torch.float64) * 5,)],
                  mistakes={"plus": (lambda x: x + 2, "you added 2")})


def stub(x):
    raise NotImplementedError("Exercise: replace this line with your code")


def test_a_wrong_answer_prints_and_does_not_raise_in_an_ordinary_kernel(capsys):
    result = double(lambda x: x + 2)
    out = capsys.readouterr().out
    assert result.status == "wrong" and not result.passed
    assert out.startswith("WRONG  double: you added 2") and "recognized mistake: plus" in out
    assert out.count("WRONG") == 1 and result.message == out.strip()


@pytest.mark.parametrize("env", [{"AELAB_CHECKS_STRICT": "1"}, {"NBGRADER_EXECUTION": "autograde"},
                                 {"NBGRADER_EXECUTION": "validate"}])
def test_when_grading_anything_but_a_pass_raises_the_same_text_and_prints_nothing(env, monkeypatch, capsys):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ExerciseFailed) as error:
        double(lambda x: x + 2)
    assert str(error.value).startswith("WRONG  double: you added 2")
    assert error.value.__cause__ is None and error.value.__suppress_context__
    assert error.value._render_traceback_() == str(error.value).splitlines()  # IPython shows the message only
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):  # an untouched stub earns no points
        double(stub)
    assert double(lambda x: 2 * x).passed
    assert capsys.readouterr().out.startswith("PASSED  double")


def test_stub_is_not_attempted_and_the_result_is_not_echoed(capsys):
    result = double(stub)
    assert result.status == "not attempted" and capsys.readouterr().out.startswith("NOT ATTEMPTED  double")
    assert result._ipython_display_() is None  # IPython's displayhook shows nothing: no Out[n] echo
    assert repr(result) == "CheckResult('double', 'not attempted')"


def _wrong(fn, capsys, exercise=double):
    result = exercise(fn)
    assert result.status == "wrong", result.message
    return capsys.readouterr().out


def test_generic_failures_get_a_message_in_the_students_terms(capsys, monkeypatch):
    assert "returned None" in _wrong(lambda x: None, capsys) and "`return`" in _wrong(lambda x: None, capsys)
    assert "returned a tuple of 2" in _wrong(lambda x: (x * 2, x), capsys)
    assert "numpy array" in _wrong(lambda x: x.numpy() * 2, capsys)
    assert "returned a float" in _wrong(lambda x: float(x.sum()), capsys)
    assert "shape 2; expected 3" in _wrong(lambda x: x[:2] * 2, capsys)
    assert "dtype torch.float32" in _wrong(lambda x: (x * 2).float(), capsys)
    assert "NaN" in _wrong(lambda x: x * float("nan"), capsys)
    assert "largest difference" in _wrong(lambda x: x * 3, capsys)
    assert "expected your function" in _wrong(3, capsys)

    def in_place(x):
        x.mul_(2)
        return x

    assert "changed its input `x` in place" in _wrong(in_place, capsys)

    def raises(x):
        y = x.sum()
        return y / 0 + x[7]  # an IndexError in the student's own line

    out = _wrong(raises, capsys)
    assert "raised IndexError" in out and "return y / 0 + x[7]" in out and "x (a 3 float64 tensor)" in out

    monkeypatch.setattr(_core, "TIME_LIMIT_S", 0.2)

    def endless(x):
        while True:
            try:
                pass
            except Exception:  # a student's catch-all must not swallow the time limit
                pass

    assert "did not return within 0.2 s" in _wrong(endless, capsys)


def test_accepted_alternatives_pass_with_their_note_and_case_notes_explain_failures(capsys):
    exercise = Exercise("half", lambda x: x / 2, lambda: [Case(torch.ones(2), note="(Mind the note.)")],
                        accept={"quarter": (lambda x: x / 4, "a quarter is fine too")})
    assert exercise(lambda x: x / 4).passed and "a quarter is fine too" in capsys.readouterr().out
    assert "(Mind the note.)" in _wrong(lambda x: x, capsys, exercise)


def test_gradient_must_reach_the_inputs(capsys):
    exercise = Exercise("square", lambda x: x ** 2, lambda: [(torch.arange(3.0),)], gradient=(0,))
    assert exercise(lambda x: x * x).passed
    assert "no gradient flows" in _wrong(lambda x: (x ** 2).detach(), capsys, exercise)
    assert "gradient with respect to `x` is wrong" in _wrong(lambda x: x * x.detach(), capsys, exercise)


def test_what_follows_a_check_does_not_depend_on_what_the_student_code_drew():
    """Checks no longer save and restore the global generators: seeds are arguments, so a model
    built and trained after a check is the same whether the student's code drew random numbers or not."""
    import aelab

    x = torch.rand(32, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    weights = []
    for student in (lambda t: t * 2, lambda t: (torch.rand(1000), np.random.rand(9), random.random(), t * 2)[-1]):
        double(student)
        model = aelab.mlp_autoencoder((1, 4, 4), 3, corruption=aelab.MaskingNoise(0.3), seed=0)
        aelab.fit(model, x, epochs=2, batch_size=8, seed=0, progress=False)
        weights.append(model.filters.detach().clone())
    assert torch.equal(*weights)


def test_an_exercise_asking_for_a_number_is_a_function_of_no_arguments(capsys):
    predicted = Exercise("predicted ratio", lambda: 0.5, lambda: [()], atol=0.01)
    assert predicted(lambda: 0.499).passed
    assert "expected 0.5, got 2" in _wrong(lambda: 2, capsys, predicted)
    assert "returned None" in _wrong(lambda: None, capsys, predicted)


def test_running_or_handing_in_the_packages_answer_is_wrong_however_it_is_reached(capsys):
    from aelab import pca
    from aelab.activations import top_k
    from aelab.checks import ksparse
    from aelab.checks import pca as pca_checks

    cov = pca.covariance                    # an alias: what is watched is the code that runs, not a name
    for student in (lambda X: pca.covariance(X), lambda X: cov(X),
                    lambda X: pca_checks.check_covariance.reference(X)):
        assert pca_checks.check_covariance(student).status == "wrong"
        assert "runs `aelab.pca.covariance`" in capsys.readouterr().out
    assert pca_checks.check_covariance(lambda X: torch.cov(X.T, correction=0)).status == "wrong"   # a C function
    assert "runs `torch.cov`" in capsys.readouterr().out

    def nested(X, k):                      # through a helper, and a forbidden function the reference calls
        def helper(Y):
            return pca.fit_pca(Y, k).reconstruct(Y)
        return helper(X)
    assert pca_checks.check_pca_reconstruct(nested).status == "wrong"
    assert ksparse.check_top_k(top_k).status == "wrong"
    assert "handed in `aelab.activations.top_k`" in capsys.readouterr().out

    def reconstruct(X, k):                 # the student's own helper may share a package function's name
        mean = X.mean(dim=0)
        vectors = torch.linalg.eigh((X - mean).T @ (X - mean) / len(X))[1].flip(1)[:, :k]
        return (X - mean) @ vectors @ vectors.T + mean
    assert pca_checks.check_pca_reconstruct(lambda X, k: reconstruct(X, k)).status == "passed"


def test_the_watch_is_lifted_after_the_call():
    import sys

    from aelab.checks import pca as pca_checks
    before = sys.getprofile()
    pca_checks.check_covariance(lambda X: (X - X.mean(0)).T @ (X - X.mean(0)) / len(X))
    assert sys.getprofile() is before
