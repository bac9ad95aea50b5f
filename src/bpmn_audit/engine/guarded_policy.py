"""RestrictedPython's policy, plus the calls that let a :class:`~.budget.Budget` watch the code run.

RestrictedPython already routes every ``for`` loop and comprehension through ``_getiter_`` and every
augmented assignment through ``_inplacevar_``. This policy also makes the code call:

- ``_tick_()`` first thing in every ``while`` body, every function and every lambda, so loops with no
  iterator and recursion spend the budget too;
- ``_add_``, ``_mul_``, ``_pow_``, ``_lshift_`` and ``_mod_`` for ``+``, ``*``, ``**``, ``<<`` and ``%``,
  which size text, lists and integers before making them;
- ``_sized_(f"...")`` around every f-string, which counts its length (``s = f"{s}{s}"`` doubles).
"""

from __future__ import annotations

import ast

from RestrictedPython import RestrictingNodeTransformer

#: operator -> the guard the compiled code calls instead
BINOP_GUARDS: dict[type[ast.operator], str] = {
    ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_", ast.Mod: "_mod_",
}


def _tick(at: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.Name("_tick_", ast.Load()), args=[], keywords=[])
    return ast.fix_missing_locations(ast.copy_location(call, at))


class GuardedPolicy(RestrictingNodeTransformer):
    """RestrictedPython's transformer with budget calls on loops, calls and growing operators."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        """``a * b`` becomes ``_mul_(a, b)``, and so on for the operators in BINOP_GUARDS."""
        node = super().visit_BinOp(node)
        guard = BINOP_GUARDS.get(type(node.op))
        if guard is None:
            return node
        call = ast.Call(func=ast.Name(guard, ast.Load()), args=[node.left, node.right], keywords=[])
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        """``f"..."`` becomes ``_sized_(f"...")``."""
        node = super().visit_JoinedStr(node)
        call = ast.Call(func=ast.Name("_sized_", ast.Load()), args=[node], keywords=[])
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        """The value inside ``{}`` is checked as usual; the format spec (constants only) stays an f-string."""
        node.value = self.visit(node.value)
        return node

    def visit_While(self, node: ast.While) -> ast.AST:
        """Every round of a ``while`` loop ticks."""
        node = super().visit_While(node)
        node.body.insert(0, ast.fix_missing_locations(ast.copy_location(ast.Expr(_tick(node)), node)))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        """Every call of a function defined in the script ticks (recursion spends the budget)."""
        node = super().visit_FunctionDef(node)
        node.body.insert(0, ast.fix_missing_locations(ast.copy_location(ast.Expr(_tick(node)), node)))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        """``lambda x: body`` becomes ``lambda x: _tick_() or body`` (``_tick_`` returns None)."""
        node = super().visit_Lambda(node)
        node.body = ast.fix_missing_locations(ast.copy_location(
            ast.BoolOp(op=ast.Or(), values=[_tick(node), node.body]), node.body))
        return node
