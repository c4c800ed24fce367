"""Fingerprints of Python code: tokens, with the names a copier renames made alike, winnowed k-grams.

The token stream keeps what a copier rarely changes (keywords, operators, numbers, the APIs
called: `torch`, `.reshape`, `nn.Linear`) and makes alike what a copier changes freely: every
name the student chose (variables, parameters, functions, classes, `self`'s attributes) becomes
one symbol, every string another; comments, docstrings and blank lines are dropped. A k-gram is k
tokens in a row; copydetect's robust winnowing (Schleimer, Wilkerson and Aiken's, as in MOSS)
keeps one fingerprint per window of them, and maps the matches back to spans of the text.

The k-gram hashes are ours: copydetect hashes with Python's `hash()` of a string, salted per
process, so its winnowing would pick other fingerprints on every run; a tuple of ints hashes the
same everywhere, so the same class gives the same scores.
"""
import keyword
import re
import zlib
from dataclasses import dataclass

import numpy as np
from copydetect.utils import get_copied_slices, winnow
from pygments.lexers import PythonLexer
from pygments.token import Comment, Name, String

NAME, STRING = "\0name", "\0string"  # the one symbol for every chosen name, every string
KEPT_NAMES = Name.Builtin, Name.Exception, Name.Namespace, Name.Decorator  # self and cls are Builtin.Pseudo
MODULES = frozenset({"torch", "nn", "F", "np", "math", "functional", "optim", "init", "data"})
IMPORT = re.compile(r"^\s*(?:from\s+[\w.]+\s+)?import\s+(.+)$", re.MULTILINE)
HASH_BITS = (1 << 52) - 1  # exact in a float64: copydetect's winnowing compares hashes as floats


@dataclass(frozen=True)
class Fingerprints:
    """One piece of code: its text, its tokens' spans, and where each fingerprint starts."""
    text: str
    spans: tuple  # ((start, end) in text, ...) one per token
    where: dict  # {hash: (token index of a k-gram, ...)}
    k: int

    @property
    def hashes(self) -> frozenset:
        return frozenset(self.where)

    def spans_of(self, hashes) -> list:
        """[(start, end)] of the text covered by the k-grams of `hashes`, merged, in order."""
        starts = [i for h in hashes if h in self.where for i in self.where[h]]
        if not starts:
            return []
        first, last = get_copied_slices(np.array(starts), self.k)
        return [(self.spans[a][0], self.spans[b - 1][1]) for a, b in zip(first, last)]


def imported_names(code: str) -> set:
    """The names an import statement in `code` binds (`import torch.nn as nn` -> nn, torch)."""
    names = set()
    for clause in IMPORT.findall(code):
        for part in clause.strip("()\\ ").split(","):
            words = part.split()
            if words:
                names.add(words[-1] if "as" in words else words[0].split(".")[0])
    return names


def tokens(code: str, modules=MODULES) -> list:
    """[(symbol, start, end)] of `code`: comments, docstrings and spacing left out; the names the
    author chose are NAME, strings STRING; keywords, operators, numbers and the names of APIs
    (builtins, `modules`, attributes other than `self`'s) are themselves. Grouping parentheses
    and trailing commas are left out too: `(X @ W) + b`, `X @ W + b` and `(H, C) = state` read as
    their bare forms (a call's parentheses stay)."""
    out, opened = [], []  # opened: for each "(" still open, whether it was kept (a call's)
    for start, kind, value in PythonLexer().get_tokens_unprocessed(code):
        end = start + len(value)
        if kind in Comment or kind in String.Doc or not value.strip():
            continue
        if value in (")", "]", "}") and out and out[-1][0] == ",":
            out.pop()  # a trailing comma
        if value == "(":
            opened.append(_is_call(out))
            if not opened[-1]:
                continue
        elif value == ")" and opened and not opened.pop():
            continue
        if kind in String:
            if out and out[-1][0] == STRING and out[-1][2] == start:  # one symbol per string literal
                out[-1] = (STRING, out[-1][1], end)
            else:
                out.append((STRING, start, end))
        elif kind in Name and not any(kind in kept for kept in KEPT_NAMES):
            after_dot = len(out) >= 2 and out[-1][0] == "."
            api = out[-2][0] != "self" if after_dot else value in modules
            out.append((value if api else NAME, start, end))
        else:  # keywords, operators, numbers, kept names; an error token (a magic) as written
            out.append((value, start, end))
    return out


def _is_call(out) -> bool:
    """Whether a "(" after the tokens `out` opens a call (or a def's parameters), not a group."""
    if not out:
        return False
    last = out[-1][0]
    return last in (NAME, ")", "]", STRING) or (last.isidentifier() and not keyword.iskeyword(last))


def fingerprint(code: str, k: int, window: int, modules=MODULES) -> Fingerprints:
    """The winnowed fingerprints of `code`: one per `window` k-grams of `k` tokens (none when it has
    fewer than k tokens); a match of k + window - 1 tokens or more always shares one."""
    found = tokens(code, modules)
    ids = [zlib.crc32(symbol.encode()) for symbol, _, _ in found]
    hashes = np.array([hash(tuple(ids[i:i + k])) & HASH_BITS for i in range(len(ids) - k + 1)],
                      dtype=np.int64)
    where = {}
    if len(hashes):
        selected, index = winnow(hashes, window, remove_duplicates=False)
        for h, i in zip(selected.tolist(), index.tolist()):
            where.setdefault(h, []).append(i)
    return Fingerprints(code, tuple((a, b) for _, a, b in found), {h: tuple(i) for h, i in where.items()},
                        k)
