"""Exact arithmetic on token formulas, for EZPoints and Points24 (no ``eval()``).

A formula is the list of tokens the agent appended: numbers '1'..'10' and the operators
``+ - * / ( )``. :func:`evaluate` reads it with a small recursive-descent grammar and exact
fractions, with Python's precedence and unary signs:

    expr   := term (('+' | '-') term)*
    term   := factor (('*' | '/') factor)*
    factor := ('+' | '-') factor | NUMBER | '(' expr ')'

Deliberate differences from the official ``eval(''.join(tokens))``:
- two number tokens in a row are malformed (eval would glue '1', '2' into 12);
- '**' and '//' are malformed (eval would read power and floor division);
- division is exact, so 8 / (3 - 8 / 3) equals 24 (in floats it is 23.999999999999986).

:func:`solutions` enumerates formulas over a multiset of card values that hit a target,
each using every card once, with parentheses only where precedence needs them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from fractions import Fraction

__all__ = ["FormulaError", "evaluate", "first_solution", "numbers_used", "solutions"]

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
_ATOM = 3


class FormulaError(ValueError):
    """The token list is not a well-formed formula (or divides by zero)."""


def _is_number(token: str) -> bool:
    return token.isdigit()


def numbers_used(tokens: Sequence[str]) -> list[int]:
    """The card values a formula uses, in order."""
    return [int(t) for t in tokens if _is_number(t)]


class _Parser:
    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = [t for t in tokens if t.strip()]
        self.pos = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise FormulaError("formula ends too early")
        self.pos += 1
        return token

    def parse(self) -> Fraction:
        if not self.tokens:
            raise FormulaError("empty formula")
        value = self._expr()
        if self._peek() is not None:
            raise FormulaError(f"unexpected {self._peek()!r} at position {self.pos}")
        return value

    def _expr(self) -> Fraction:
        value = self._term()
        while self._peek() in ("+", "-"):
            value = value + self._term() if self._take() == "+" else value - self._term()
        return value

    def _term(self) -> Fraction:
        value = self._factor()
        while self._peek() in ("*", "/"):
            op = self._take()
            rhs = self._factor()
            if op == "*":
                value *= rhs
            elif rhs == 0:
                raise FormulaError("division by zero")
            else:
                value /= rhs
        return value

    def _factor(self) -> Fraction:
        token = self._take()
        if token == "+":
            return self._factor()
        if token == "-":
            return -self._factor()
        if _is_number(token):
            return Fraction(int(token))
        if token == "(":
            value = self._expr()
            if self._take() != ")":
                raise FormulaError("missing ')'")
            return value
        raise FormulaError(f"unexpected {token!r}")


def evaluate(tokens: Sequence[str]) -> Fraction:
    """The exact value of a token formula; blank tokens (' ') are ignored.

    Raises FormulaError if the formula is malformed or divides by zero.
    """
    return _Parser(tokens).parse()


# A partial expression in the search: (value, tokens, precedence of its top operator).
_Item = tuple[Fraction, tuple[str, ...], int]


def _combine(a: _Item, b: _Item, op: str) -> _Item | None:
    """``a op b`` with parentheses added only where precedence requires them."""
    prec = _PRECEDENCE[op]
    if op == "/" and b[0] == 0:
        return None
    left = a[1] if a[2] >= prec else ("(", *a[1], ")")
    # The right operand of '-' or '/' also needs parentheses at equal precedence.
    right_ok = b[2] > prec or (b[2] == prec and op in "+*")
    right = b[1] if right_ok else ("(", *b[1], ")")
    value = {"+": a[0] + b[0], "-": a[0] - b[0], "*": a[0] * b[0]}.get(op)
    if value is None:
        value = a[0] / b[0]
    return value, (*left, op, *right), prec


def _search(items: list[_Item], target: Fraction, ops: Sequence[str]) -> Iterator[tuple[str, ...]]:
    if len(items) == 1:
        if items[0][0] == target:
            yield items[0][1]
        return
    for i in range(len(items)):
        for j in range(len(items)):
            if i == j:
                continue
            rest = [items[k] for k in range(len(items)) if k not in (i, j)]
            for op in ops:
                # Commutative operators: one operand order is enough.
                if op in "+*" and i > j:
                    continue
                combined = _combine(items[i], items[j], op)
                if combined is not None:
                    yield from _search([*rest, combined], target, ops)


def solutions(
    numbers: Sequence[int], target: int, ops: Sequence[str] = ("+", "-", "*", "/")
) -> Iterator[list[str]]:
    """Yield token formulas that use every number exactly once and equal ``target``.

    The same formula may be yielded more than once (different search orders reach it).
    """
    items: list[_Item] = [(Fraction(n), (str(n),), _ATOM) for n in numbers]
    for tokens in _search(items, Fraction(target), tuple(ops)):
        yield list(tokens)


def first_solution(
    numbers: Sequence[int], target: int, ops: Sequence[str] = ("+", "-", "*", "/")
) -> list[str] | None:
    """One formula from :func:`solutions`, or None when the deal cannot reach the target."""
    return next(solutions(numbers, target, ops), None)
