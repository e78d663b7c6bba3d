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


def test_a_check_leaves_global_random_state_untouched():
    def draw_all():
        return torch.rand(3), np.random.rand(3), random.random()

    for seed in (torch.manual_seed, np.random.seed, random.seed):
        seed(0)
    expected = draw_all()
    for seed in (torch.manual_seed, np.random.seed, random.seed):
        seed(0)
    double(lambda x: (torch.manual_seed(1), np.random.seed(1), random.seed(1), x * 2)[-1])
    got = draw_all()
    assert torch.equal(got[0], expected[0]) and np.array_equal(got[1], expected[1]) and got[2] == expected[2]


def test_an_exercise_asking_for_a_number_is_a_function_of_no_arguments(capsys):
    predicted = Exercise("predicted ratio", lambda: 0.5, lambda: [()], atol=0.01)
    assert predicted(lambda: 0.499).passed
    assert "expected 0.5, got 2" in _wrong(lambda: 2, capsys, predicted)
    assert "returned None" in _wrong(lambda: None, capsys, predicted)
