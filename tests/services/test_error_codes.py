"""Errors are data: every code is an ``ErrorCode``, and no code decides anything by reading a message's words."""

from __future__ import annotations

import ast

import pytest

from portal_app.services.errors import ErrorCode, FormInvalid, ServiceError
from tests.paths import PROJECT_ROOT

ROOT = PROJECT_ROOT
SOURCES = sorted((ROOT / "portal_app").rglob("*.py"))


def _trees():
    for path in SOURCES:
        yield path.relative_to(ROOT), ast.parse(path.read_text(), str(path))


def test_every_error_code_is_an_error_code_member():
    literals = []
    for where, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "code" and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str) and node.value.value.islower():
                literals.append(f"{where}:{node.value.lineno} code={node.value.value!r}")
            if isinstance(node, ast.ClassDef) and any(getattr(b, "id", "").endswith(("Error", "Failed", "Found",
                                                                                    "Denied", "Conflict", "Limited",
                                                                                    "Invalid", "Authenticated"))
                                                      for b in node.bases):
                for stmt in node.body:
                    if isinstance(stmt, ast.Assign) and any(getattr(t, "id", "") == "code" for t in stmt.targets) \
                            and isinstance(stmt.value, ast.Constant):
                        literals.append(f"{where}:{stmt.lineno} class {node.name}: code = {stmt.value.value!r}")
    assert not literals, "use ErrorCode members, not strings:\n" + "\n".join(literals)


def _reads_message(node: ast.AST) -> bool:
    """``x.message``, ``self.error`` (a page's shown message) or a method call on either (``.lower()``)."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        node = node.func.value
    return isinstance(node, ast.Attribute) and (node.attr == "message" or (
        node.attr == "error" and isinstance(node.value, ast.Name) and node.value.id == "self"))


def test_no_code_branches_on_message_text():
    found = []
    for where, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                text_test = any(isinstance(op, (ast.In, ast.NotIn, ast.Eq, ast.NotEq)) for op in node.ops)
                has_literal = any(isinstance(s, ast.Constant) and isinstance(s.value, str) and s.value for s in sides)
                if text_test and has_literal and any(_reads_message(s) for s in sides):
                    found.append(f"{where}:{node.lineno}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in {"startswith", "endswith", "replace", "find"} \
                    and _reads_message(node.func.value):
                found.append(f"{where}:{node.lineno}")
    assert not found, "branch on ErrorCode or ServiceError.fields, not on message text:\n" + "\n".join(found)


@pytest.mark.parametrize("error", [ServiceError("x", code=ErrorCode.EDIT_CONFLICT, fields={"name": "taken"}),
                                   FormInvalid("x", {"name": "taken"})])
def test_field_errors_travel_as_a_mapping_in_the_error_shape(error):
    body = error.to_dict()["error"]
    assert body["fields"] == {"name": "taken"} and isinstance(body["code"], str)


def test_error_codes_are_unique_lower_case_words():
    values = [c.value for c in ErrorCode]
    assert len(values) == len(set(values)) and all(v.replace("_", "").isalpha() and v.islower() for v in values)
