"""Stubs and reference solutions cannot drift apart: same functions and classes, signatures and docstrings."""

import ast
import importlib
import inspect
import textwrap

import pytest

from grader.rubric import LESSONS, tasks_of

PAIRS = {
    lesson.module: (importlib.import_module(f"exercises.{lesson.module}"), importlib.import_module(f"solutions.{lesson.module}"))
    for lesson in LESSONS
}


def public_names(module):
    """The functions and classes a module defines itself (not imported), without private ones."""
    return {name for name, value in vars(module).items()
            if (inspect.isfunction(value) or inspect.isclass(value)) and not name.startswith("_")
            and value.__module__ == module.__name__}


def callables(module):
    """``name`` for each public function, ``Class.method`` for each public method and ``__init__`` of a class."""
    found = []
    for name in sorted(public_names(module)):
        value = getattr(module, name)
        if inspect.isclass(value):
            found.append(name)
            found += [f"{name}.{method}" for method, member in vars(value).items()
                      if inspect.isfunction(member) and (method == "__init__" or not method.startswith("_"))]
        else:
            found.append(name)
    return found


def resolve(module, dotted):
    value = module
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


CALLABLES = [(module, name) for module, (_, reference) in PAIRS.items() for name in callables(reference)]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.module)
def test_same_public_names_as_the_tasks_name(lesson):
    stub, reference = PAIRS[lesson.module]
    named = {function for task in tasks_of(lesson) for function in task.functions}
    assert public_names(stub) == public_names(reference) == named
    assert callables(stub) == callables(reference)


@pytest.mark.parametrize("module, name", CALLABLES)
def test_same_signature_and_docstring(module, name):
    stub, reference = (resolve(side, name) for side in PAIRS[module])
    assert inspect.signature(stub) == inspect.signature(reference)
    assert inspect.getdoc(stub) == inspect.getdoc(reference)


@pytest.mark.parametrize("module, name", [(module, name) for module, name in CALLABLES
                                          if not inspect.isclass(resolve(PAIRS[module][0], name))])
def test_stub_only_raises_not_implemented(module, name):
    source = textwrap.dedent(inspect.getsource(resolve(PAIRS[module][0], name)))
    function = ast.parse(source).body[0]
    *docstring, last = function.body  # __init__ may leave its documentation to the class
    assert len(docstring) == (0 if name.endswith(".__init__") else 1) and isinstance(last, ast.Raise)
    assert ast.unparse(last.exc).startswith("NotImplementedError")
    assert "TODO" in source
