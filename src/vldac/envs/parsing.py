"""Reading an action out of a model's free-text answer, without ``eval()``.

Models are asked for ``{"thoughts": ..., "action": ...}`` but answer in many shapes: inside
```json fences, with single quotes, Python's True/False, trailing commentary, unescaped
quotes inside the thoughts, or no JSON at all. :func:`extract_action` tries, in order:

1. the ``"action"`` value of a dict found in the text (a lenient JSON/Python-literal reader);
2. the whole stripped text being one action (case-insensitive);
3. the value after the last ``action:`` label;
4. the first action that appears as a standalone token anywhere in the text.

The result is always the canonical string from ``actions`` or ``None``; never a guess.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["extract_action", "extract_json_dict"]

_FENCE = re.compile(r"```[A-Za-z0-9_-]*\s*\n?(.*?)```", re.DOTALL)
_ACTION_LABEL = re.compile(r"""["'`]?\baction["'`]?\s*[:=]\s*""", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LITERALS = {"true": True, "false": False, "null": None, "none": None}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/"}
# Limits that keep a pathological answer (thousands of braces, deep nesting) cheap.
_MAX_DEPTH = 32
_MAX_STARTS = 64
# Characters that may sit next to a symbol action (e.g. '+') for it to count as standalone.
_SYMBOL_NEIGHBOURS = set(" \t\r\n\"'`.,;:!?[]{}<>")


class _SyntaxError(Exception):
    pass


class _LenientReader:
    """Recursive-descent reader for JSON that also accepts Python-literal spellings.

    Accepts single- or double-quoted strings (raw newlines allowed), True/False/None and
    true/false/null, unquoted identifier keys, bare-word values and trailing commas.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _peek(self) -> str:
        self._skip_ws()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def value(self, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise _SyntaxError("too deep")
        ch = self._peek()
        if not ch:
            raise _SyntaxError("unexpected end of text")
        if ch == "{":
            return self._object(depth)
        if ch == "[":
            return self._array(depth)
        if ch in "\"'":
            return self._string()
        match = _NUMBER.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            token = match.group()
            try:
                return int(token)
            except ValueError:
                try:
                    return float(token)
                except ValueError as exc:  # e.g. an integer too long to convert
                    raise _SyntaxError(token) from exc
        match = _IDENT.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            word = match.group()
            return _LITERALS.get(word.lower(), word)
        raise _SyntaxError(f"unexpected {ch!r} at {self.pos}")

    def _string(self) -> str:
        quote = self.text[self.pos]
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            self.pos += 1
            if ch == quote:
                return "".join(out)
            if ch == "\\" and self.pos < len(self.text):
                esc, hex4 = self.text[self.pos], self.text[self.pos + 1 : self.pos + 5]
                self.pos += 1
                if esc == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", hex4):
                    out.append(chr(int(hex4, 16)))
                    self.pos += 4
                else:
                    out.append(_ESCAPES.get(esc, esc))
            else:
                out.append(ch)
        raise _SyntaxError("unterminated string")

    def _object(self, depth: int) -> dict[str, Any]:
        self.pos += 1
        result: dict[str, Any] = {}
        while True:
            ch = self._peek()
            if ch == "}":
                self.pos += 1
                return result
            key = self.value(depth + 1)
            if self._peek() not in ":=":
                raise _SyntaxError("expected ':'")
            self.pos += 1
            result[str(key)] = self.value(depth + 1)
            ch = self._peek()
            if ch == ",":
                self.pos += 1
            elif ch != "}":
                raise _SyntaxError("expected ',' or '}'")

    def _array(self, depth: int) -> list[Any]:
        self.pos += 1
        result: list[Any] = []
        while True:
            if self._peek() == "]":
                self.pos += 1
                return result
            result.append(self.value(depth + 1))
            ch = self._peek()
            if ch == ",":
                self.pos += 1
            elif ch != "]":
                raise _SyntaxError("expected ',' or ']'")


def _dicts_in(text: str) -> list[dict[str, Any]]:
    """Every dict that parses at a '{' of ``text`` (trailing text ignored), in text order."""
    found: list[dict[str, Any]] = []
    starts = [m.start() for m in re.finditer(r"\{", text)][:_MAX_STARTS]
    covered = -1
    for start in starts:
        if start < covered:  # inside a dict already read: its nested dicts are searched later
            continue
        reader = _LenientReader(text)
        reader.pos = start
        try:
            parsed = reader.value()
        except (_SyntaxError, RecursionError):
            continue
        if isinstance(parsed, dict):
            found.append(parsed)
            covered = reader.pos
    return found


def _find_action_key(obj: Any) -> tuple[bool, Any]:
    """Breadth-first search for an 'action' key (case-insensitive) in nested dicts/lists."""
    queue = [obj]
    while queue:
        current = queue.pop(0)
        if isinstance(current, dict):
            for key, val in current.items():
                if key.strip().lower() == "action":
                    return True, val
            queue.extend(current.values())
        elif isinstance(current, list):
            queue.extend(current)
    return False, None


def extract_json_dict(text: str) -> dict[str, Any] | None:
    """Return the dict the answer most plausibly meant, or None if no dict can be read.

    Code-fenced blocks are read before the surrounding text. Among the dicts found, the
    first one holding an ``action`` key (at any depth) wins; otherwise the first dict.
    """
    if not isinstance(text, str):
        return None
    blocks = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    first: dict[str, Any] | None = None
    for block in blocks:
        for found in _dicts_in(block):
            if _find_action_key(found)[0]:
                return found
            if first is None:
                first = found
    return first


def _as_text(value: Any) -> str | None:
    """Normalise an 'action' value (str, int, float, bool, one-item list) to a string."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, str)):
        return str(value)
    return None


def _clean(text: str) -> str:
    """Strip whitespace, wrapping quotes/backticks and a trailing full stop or comma."""
    text = text.strip().strip("\"'`").strip()
    if len(text) > 1:
        text = text.rstrip(".,;!").strip()
    return text


def _exact(text: str, actions: list[str]) -> str | None:
    wanted = _clean(text).lower()
    return next((action for action in actions if action.lower() == wanted), None)


def _standalone(text: str, start: int, action: str) -> bool:
    """Whether ``action`` found at ``start`` is a whole token, not part of a longer one."""
    before = text[start - 1] if start > 0 else " "
    end = start + len(action)
    after = text[end] if end < len(text) else " "
    if action[0].isalnum() and before.isalnum():
        return False
    if action[-1].isalnum() and after.isalnum():
        return False
    if not action[0].isalnum() and before not in _SYMBOL_NEIGHBOURS:
        return False
    if not action[-1].isalnum() and after not in _SYMBOL_NEIGHBOURS:
        return False
    # '10' in '10.5' or '1' in '1.5' are numbers other than the action.
    if action[-1].isdigit() and after == "." and text[end + 1 : end + 2].isdigit():
        return False
    if action[0].isdigit() and before == "." and text[max(0, start - 2) : start - 1].isdigit():
        return False
    return True


def _first_token(text: str, actions: list[str]) -> str | None:
    """The earliest standalone action in ``text``; the longest one wins a tie in position.

    A case-sensitive pass runs first; the case-insensitive pass then skips one-letter
    actions, so that the article 'a' is never read as action 'A'.
    """
    for fold in (False, True):
        haystack = text.lower() if fold else text
        best: tuple[int, int, str] | None = None
        for action in actions:
            if fold and len(action) == 1 and action.isalpha():
                continue
            needle = action.lower() if fold else action
            start = haystack.find(needle)
            while start != -1:
                if _standalone(haystack, start, needle):
                    key = (start, -len(needle), action)
                    if best is None or key < best:
                        best = key
                    break
                start = haystack.find(needle, start + 1)
        if best is not None:
            return best[2]
    return None


def _label_value(text: str) -> str | None:
    """The value written after the last ``action:`` label, up to the end of its line."""
    labels = list(_ACTION_LABEL.finditer(text))
    if not labels:
        return None
    rest = text[labels[-1].end() :]
    if rest[:1] and rest[0] in "\"'":
        close = rest.find(rest[0], 1)
        if close != -1:
            return rest[1:close]
        rest = rest[1:]
    line = rest.splitlines()[0] if rest.strip() else ""
    return re.split(r"[,}\]]", line, maxsplit=1)[0]


def extract_action(text: str, actions: list[str]) -> str | None:
    """Return the canonical action from ``actions`` that ``text`` chooses, or None.

    Promises: never evaluates the text; '10' is read as '10' (not '1'); if the answer
    holds a dict with an 'action' key, only that value decides (an unknown value gives
    None rather than a guess from the thoughts).
    """
    if not isinstance(text, str) or not actions:
        return None
    found = extract_json_dict(text)
    if found is not None:
        has_action, value = _find_action_key(found)
        if has_action:
            value_text = _as_text(value)
            if value_text is None:
                return None
            return _exact(value_text, actions) or _first_token(value_text, actions)
    stripped = _FENCE.sub(lambda m: m.group(1), text)
    exact = _exact(stripped, actions)
    if exact is not None:
        return exact
    label = _label_value(stripped)
    if label is not None:
        chosen = _exact(label, actions) or _first_token(label, actions)
        if chosen is not None:
            return chosen
    # Blank out the labels so that the '=' of 'action = ...' is not read as an action.
    unlabelled = _ACTION_LABEL.sub(lambda m: " " * len(m.group()), stripped)
    return _first_token(unlabelled, actions)
