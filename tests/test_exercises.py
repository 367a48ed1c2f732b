"""Stubs and reference solutions cannot drift apart: same functions, signatures and docstrings."""

import ast
import importlib
import inspect

import pytest

from grader.rubric import LESSONS, tasks_of

PAIRS = {
    lesson.module: (importlib.import_module(f"exercises.{lesson.module}"), importlib.import_module(f"solutions.{lesson.module}"))
    for lesson in LESSONS
}
FUNCTIONS = [(module, name) for module, (_, reference) in PAIRS.items() for name in sorted(vars(reference))
             if inspect.isfunction(getattr(reference, name)) and not name.startswith("_")]


def public_functions(module):
    return {name for name, value in vars(module).items() if inspect.isfunction(value) and not name.startswith("_")}


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.module)
def test_same_public_functions_as_the_tasks_name(lesson):
    stub, reference = PAIRS[lesson.module]
    named = {function for task in tasks_of(lesson) for function in task.functions}
    assert public_functions(stub) == public_functions(reference) == named


@pytest.mark.parametrize("module, name", FUNCTIONS)
def test_same_signature_and_docstring(module, name):
    stub, reference = (getattr(side, name) for side in PAIRS[module])
    assert inspect.signature(stub) == inspect.signature(reference)
    assert inspect.getdoc(stub) == inspect.getdoc(reference)


@pytest.mark.parametrize("module, name", FUNCTIONS)
def test_stub_only_raises_not_implemented(module, name):
    source = inspect.getsource(getattr(PAIRS[module][0], name))
    function = ast.parse(source).body[0]
    *docstring, last = function.body
    assert len(docstring) == 1 and isinstance(last, ast.Raise)
    assert ast.unparse(last.exc).startswith("NotImplementedError")
    assert "TODO" in source
