"""The machinery shared by every exercise check."""

import random

import numpy as np
import pytest
import torch

from aelab.checks import _core


def test_check_function_passes_recognizes_mistakes_and_not_attempted(capsys):
    reference = lambda x: x * 2
    assert _core.check_function("double", reference, reference, [(torch.ones(3),)]).passed
    with pytest.raises(_core.ExerciseFailed, match="recognized mistake: plus"):
        _core.check_function("double", lambda x: x + 2, reference, [(torch.ones(3) * 5,)],
                             mistakes={"plus": (lambda x: x + 2, "you added 2")})
    with pytest.raises(_core.ExerciseFailed, match="largest difference"):
        _core.check_function("double", lambda x: x * 3, reference, [(torch.ones(3),)])
    with pytest.raises(_core.ExerciseFailed, match="shape"):
        _core.check_function("double", lambda x: x[:2] * 2, reference, [(torch.ones(3),)])

    def stub(x):
        raise NotImplementedError

    assert _core.check_function("double", stub, reference, [(torch.ones(3),)]).status == "not attempted"
    assert "not attempted" in capsys.readouterr().out


def test_student_exceptions_are_reported_with_the_input():
    with pytest.raises(_core.ExerciseFailed, match="(?s)ZeroDivisionError.*tensor of shape"):
        _core.check_function("div", lambda x: 1 / 0, lambda x: x, [(torch.ones(2),)])


def test_isolate_rng_leaves_global_random_state_untouched():
    def check_draws(fn):
        fn()
        torch.manual_seed(123)
        np.random.seed(5)
        random.seed(7)
        return torch.rand(1)

    namespace = {"check_draws": check_draws, "helper": len}
    _core.isolate_rng(namespace)
    def draw_all():
        return torch.rand(3), np.random.rand(3), random.random()

    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    expected = draw_all()
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    namespace["check_draws"](lambda: torch.randn(100))
    got = draw_all()
    assert torch.equal(got[0], expected[0]) and np.array_equal(got[1], expected[1]) and got[2] == expected[2]
    assert namespace["helper"] is len


def test_not_attempted_fails_under_nbgrader_so_an_untouched_exercise_scores_0(monkeypatch, capsys):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert _core.not_attempted("Exercise 9").status == "not attempted"
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(_core.ExerciseFailed, match="Exercise 9: not attempted"):
        _core.not_attempted("Exercise 9")
