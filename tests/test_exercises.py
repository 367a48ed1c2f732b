"""Stubs and reference solutions cannot drift apart: same functions, signatures and docstrings."""

import ast
import importlib
import inspect

import pytest

from grader.rubric import TASKS

exercises = importlib.import_module("exercises.checkpoints")
solutions = importlib.import_module("solutions.checkpoints")


def public_functions(module):
    return {name for name, value in vars(module).items() if inspect.isfunction(value) and not name.startswith("_")}


def test_same_public_functions():
    assert public_functions(exercises) == public_functions(solutions) == {task.function for task in TASKS}


@pytest.mark.parametrize("name", sorted(public_functions(solutions)))
def test_same_signature_and_docstring(name):
    stub, reference = getattr(exercises, name), getattr(solutions, name)
    assert inspect.signature(stub) == inspect.signature(reference)
    assert inspect.getdoc(stub) == inspect.getdoc(reference)


@pytest.mark.parametrize("name", sorted(public_functions(solutions)))
def test_stub_only_raises_not_implemented(name):
    function = ast.parse(inspect.getsource(getattr(exercises, name))).body[0]
    *docstring, last = function.body
    assert len(docstring) == 1 and isinstance(last, ast.Raise)
    assert ast.unparse(last.exc).startswith("NotImplementedError")
    assert "TODO" in inspect.getsource(getattr(exercises, name))
