"""A made-up class for measuring the similarity report: independent solutions and disguised copies.

Independent solutions, per assignment: the reference (reference_solutions/), and the other correct
code the course holds (the seeds' own code, public, in autograder/similarity/public_sources, and the
course's variants in tests/seed_code, written
in other forms). A file's code goes to the levels whose names (the functions and classes the
reference defines there) it defines.

Disguises, each a function from a solution cell's code to a copy (None where it changes nothing):
the ways students hide copying. Those built on the syntax tree (reorder, matmul, for -> while,
inline) write the code back with `ast.unparse`, which drops comments and the Begin/End markers,
as a copier pasting a cleaned cell would.
"""
import ast
import builtins
import copy
import io
import keyword
import random
import re
import tokenize
from pathlib import Path

import nbformat

import course_config
from autograder.regions import STUDENT_MARKER
from autograder.similarity import PUBLIC_SOURCES
from autograder.tools.build import reference_sections

ROOT = course_config.ROOT
SEED_CODE = ROOT / "tests" / "seed_code"  # the course's own variants (not public)
# (file, public?): public = a seed's or d2l's code, in the public sources; else a variant in SEED_CODE
OTHER_SOLUTIONS = {
    "dl_basics": (("seed004_basics.py", True),),
    "multihead_attention": (("vectorised_attention.py", False), ("d2l_attention.py", True),
                            ("seed000_multihead_attention.py", True)),
    "seq2seq_translation": (("seed002_seq2seq.py", True),),
    "rnn_from_scratch": (("fused_gates.py", False), ("seed004_lstm_gru.py", True)),
    "rnn_models": (("seed000_rnn_model.py", True), ("seed003_rnn_cells.py", True), ("seed001_rnn.py", True)),
    "transformer": (("d2l_transformer.py", True),),
}
KEEP = set(dir(builtins)) | set(keyword.kwlist) | {"self", "cls", "torch", "nn", "F", "np", "math", "d2l"}


def defined_names(code: str) -> set:
    """The names a cell's top-level statements define (functions, classes, assigned names)."""
    names = set()
    for node in ast.parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def level_code_of(source: str, level_names: set) -> str:
    """The top-level statements of `source` that define one of `level_names`, as written."""
    lines = source.splitlines()
    kept = []
    for node in ast.parse(source).body:
        start = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])
        if defined_names(ast.unparse(node)) & level_names:
            kept.append("\n".join(lines[start - 1:node.end_lineno]))
    return "\n\n\n".join(kept)


def solutions(spec) -> dict:
    """{author: ({level: code}, public)}: the reference and every other solution file of `spec`."""
    reference = reference_sections(spec.name)
    found = {"reference": (reference, False)}
    for filename, public in OTHER_SOLUTIONS.get(spec.name, ()):
        source = ((PUBLIC_SOURCES if public else SEED_CODE) / filename).read_text()
        try:
            ast.parse(source)
        except SyntaxError:
            continue
        levels = {level: level_code_of(source, defined_names(code)) for level, code in reference.items()}
        levels = {level: code for level, code in levels.items() if code.strip()}
        if levels:
            found[Path(filename).stem] = (levels, public)
    return found


# ---------------------------------------------------------------- disguises

def rename(code: str, seed: int = 0):
    """Every name the author chose (assigned, parameters, loop variables) renamed."""
    tree = ast.parse(code)
    chosen = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    chosen |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    chosen -= KEEP | {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    if not chosen:
        return None
    rng = random.Random(seed)
    words = ["val", "tmp", "buf", "res", "arr", "obj", "item", "thing", "data", "xx", "zz", "acc"]
    mapping = {name: f"{rng.choice(words)}_{i}" for i, name in enumerate(sorted(chosen))}
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.NAME and tok.string in mapping:
            tok = tok._replace(string=mapping[tok.string])
        out.append(tok)
    return tokenize.untokenize(out)


def recomment(code: str, seed: int = 0):
    """Comments and docstrings replaced by others, blank lines added (the Begin/End markers kept)."""
    out = []
    for i, line in enumerate(code.splitlines()):
        if STUDENT_MARKER.match(line):
            out.append(line)
            continue
        stripped = re.sub(r"\s+#(?![^'\"]*['\"]).*$", "", line) if "#" in line else line
        if stripped.strip().startswith("#"):
            continue
        indent = stripped[:len(stripped) - len(stripped.lstrip())]
        if stripped.strip() and i % 3 == seed % 3:
            out.append(f"{indent}# 第 {i} 步：按题意计算 / step {i}: compute as asked")
        out.append(stripped)
        if i % 4 == 1:
            out.append("")
    return "\n".join(out)


class _Reorder(ast.NodeTransformer):
    def __init__(self):
        self.changed = False

    def _reorder(self, body):
        defs = [n for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        if len(defs) < 2:
            return body
        self.changed = True
        spots = iter(reversed(defs))
        return [next(spots) if isinstance(n, (ast.FunctionDef, ast.ClassDef)) else n for n in body]

    def visit_Module(self, node):
        self.generic_visit(node)
        node.body = self._reorder(node.body)
        return node

    def visit_ClassDef(self, node):
        self.generic_visit(node)
        node.body = self._reorder(node.body)
        return node


def reorder(code: str, seed: int = 0):
    """The functions (and methods) in the opposite order."""
    return _transformed(code, _Reorder())


class _Matmul(ast.NodeTransformer):
    def __init__(self):
        self.changed = False

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.MatMult):
            self.changed = True
            matmul = ast.Attribute(ast.Name("torch", ast.Load()), "matmul", ast.Load())
            return ast.Call(matmul, [node.left, node.right], [])
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        if (isinstance(f, ast.Attribute) and f.attr in ("matmul", "bmm", "mm") and isinstance(f.value, ast.Name)
                and f.value.id == "torch" and len(node.args) == 2 and not node.keywords):
            self.changed = True
            return ast.BinOp(node.args[0], ast.MatMult(), node.args[1])
        return node


def matmul(code: str, seed: int = 0):
    """`a @ b` written `torch.matmul(a, b)`, and `torch.matmul`/`bmm`/`mm` written `@`."""
    return _transformed(code, _Matmul())


class _ForToWhile(ast.NodeTransformer):
    def __init__(self):
        self.changed = False

    def visit_For(self, node):
        self.generic_visit(node)
        if node.orelse or any(isinstance(n, ast.Continue) for n in ast.walk(node)):
            return node
        self.changed = True
        it = ast.Name(f"_it{node.lineno}", ast.Store())
        setup = ast.Assign([it], ast.Call(ast.Name("iter", ast.Load()), [node.iter], []))
        step = ast.Try(body=[ast.Assign([node.target], ast.Call(ast.Name("next", ast.Load()),
                                                               [ast.Name(it.id, ast.Load())], []))],
                       handlers=[ast.ExceptHandler(ast.Name("StopIteration", ast.Load()), None, [ast.Break()])],
                       orelse=[], finalbody=[])
        return [setup, ast.While(ast.Constant(True), [step, *node.body], [])]


def for_to_while(code: str, seed: int = 0):
    """Every `for` loop (without continue or else) written as a `while` loop over an iterator."""
    return _transformed(code, _ForToWhile())


class _Inline(ast.NodeTransformer):
    """Calls of a one-expression helper replaced by its expression, the helper removed."""

    def __init__(self, helpers):
        self.helpers, self.changed = helpers, False

    def visit_FunctionDef(self, node):
        if node.name in self.helpers:
            self.changed = True
            return None
        self.generic_visit(node)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        helper = self.helpers.get(getattr(node.func, "id", None))
        if helper is None or node.keywords or len(node.args) != len(helper.args.args):
            return node
        values = {a.arg: v for a, v in zip(helper.args.args, node.args)}
        body = copy.deepcopy(helper.body[-1].value)
        for n in ast.walk(body):
            for name, child in ast.iter_fields(n):
                if isinstance(child, ast.Name) and child.id in values:
                    setattr(n, name, copy.deepcopy(values[child.id]))
                elif isinstance(child, list):
                    child[:] = [copy.deepcopy(values[c.id]) if isinstance(c, ast.Name) and c.id in values else c
                                for c in child]
        return body


def inline(code: str, seed: int = 0):
    """A helper whose body is one `return` (d2l's `normal(shape)`) written out where it is called."""
    tree = ast.parse(code)
    api = defined_names(code)
    helpers = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name not in api
               and len([b for b in n.body if not isinstance(b, ast.Expr)]) == 1 and isinstance(n.body[-1], ast.Return)
               and n.body[-1].value is not None and not n.args.defaults and not n.args.kwonlyargs}
    return _transformed(code, _Inline(helpers)) if helpers else None


def _transformed(code: str, transformer):
    tree = transformer.visit(ast.parse(code))
    return ast.unparse(ast.fix_missing_locations(tree)) if transformer.changed else None


DISGUISES = {"renamed": rename, "reordered": reorder, "re-commented": recomment, "a@b <-> torch.matmul": matmul,
             "for -> while": for_to_while, "helper inlined": inline}


def disguised(levels: dict, disguise, seed: int = 0) -> dict:
    """{level: code} with `disguise` applied to each level where it changes something ({} if nowhere)."""
    changed = {}
    for level, code in levels.items():
        try:
            new = disguise(code, seed)
        except (SyntaxError, tokenize.TokenError, IndentationError):
            new = None
        if new is not None and new.strip() != code.strip():
            changed[level] = new
    return changed


# ---------------------------------------------------------------- the class as nbgrader's submitted/

def submit(course: Path, student: str, spec, levels: dict) -> Path:
    """submitted/<student>/<folder>/<name>.ipynb: the release notebook with `levels`' cells replaced."""
    nb = nbformat.read(ROOT / "release" / spec.folder / f"{spec.name}.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in levels and cell.metadata["nbgrader"].get("solution"):
            cell.source = levels[grade_id]
    folder = course / "submitted" / student / spec.folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{spec.name}.ipynb"
    nbformat.write(nb, path)
    return path


def release_copy(course: Path, spec):
    """The release folder of `spec` in `course` (what the similarity command reads as boilerplate)."""
    dest = course / "release" / spec.folder
    dest.mkdir(parents=True, exist_ok=True)
    (dest / f"{spec.name}.ipynb").write_bytes((ROOT / "release" / spec.folder / f"{spec.name}.ipynb").read_bytes())
