"""Every pair of a class's students compared, per level and overall, on their own code only.

A student's own code in a part (a level, or the cells of no level) is its fingerprints less
  - the boilerplate: every fingerprint of the release notebook's code cells (scaffold, given cells);
  - what is common: fingerprints found in more than `common_share` of the class's submissions.
What is left and also in a public source (the seeds' pages, d2l) is set apart: a pair that shares
only that "matches a public source", never each other. A pair's score in a part is the share of
the smaller side's own, non-public fingerprints that the other side has too:

    score = |own_a ∩ own_b − public| / min(|own_a − public|, |own_b − public|)

and a side with fewer than `min_fingerprints` of them (a stub, an empty level), or whose part only
assigns literals (a quiz's answers: the right one is everyone's), is not compared.
"""
import glob
import math
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from autograder.engine.submission import read_notebook
from autograder.similarity.fingerprints import MODULES, fingerprint, imported_names
from autograder.similarity.submissions import OTHER, answers_only

ALL = "overall"  # the part that is all of a submission's code


@dataclass(frozen=True)
class Match:
    """How two students' code in one part is alike."""
    score: float  # share of the smaller side's own non-public code that both have
    public_score: float  # the same share counted with what both have from public sources
    shared: frozenset  # their common fingerprints that no public source has
    public: frozenset  # their common fingerprints that a public source has


@dataclass
class Pair:
    a: str
    b: str
    matches: dict  # {part: Match} for every part both could be compared in; ALL among them

    @property
    def score(self) -> float:  # the pair's rank: its most alike part
        return max(m.score for m in self.matches.values())

    @property
    def public_score(self) -> float:
        return max(m.public_score for m in self.matches.values())


@dataclass
class PublicMatch:
    share: float  # of the student's own code in the part
    sources: tuple  # the public sources that hold most of it, the most matched first


@dataclass
class ClassSimilarity:
    parts: list  # the parts compared, in notebook order, ALL last
    students: list  # StudentCode, by name
    prints: dict  # {student: {part: Fingerprints}}
    pairs: list  # Pair over the threshold, most alike first
    public_pairs: list  # Pair alike only through public sources (over the threshold with them, not without)
    public: dict  # {student: {part: PublicMatch}} over public_share
    empty: dict  # {student: [part]} left uncompared: too little code of the student's own
    public_hashes: dict = field(default_factory=dict)  # {hash: source names}
    own_sizes: dict = field(default_factory=dict)  # {student: {part: fingerprints of their own, not public}}
    compared_pairs: int = 0


def public_sources(root: Path, patterns) -> dict:
    """{name: code} of the public sources: files (.py, .txt, .ipynb's code cells) named by `patterns`
    (paths or globs under `root`; a folder means its files, recursively)."""
    sources = {}
    for pattern in patterns:
        for found in sorted(glob.glob(str(root / pattern))):
            found = Path(found)
            files = sorted(p for p in found.rglob("*") if p.is_file()) if found.is_dir() else [found]
            for path in files:
                if path.suffix in (".py", ".txt"):
                    sources[path.name] = path.read_text(encoding="utf-8", errors="replace")
                elif path.suffix == ".ipynb":
                    nb, _ = read_notebook(path.read_bytes())
                    sources[path.name] = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    return sources


def compare_class(students, release_code: str, sources: dict, settings, levels, progress=None) -> ClassSimilarity:
    """The class's pairs over `settings.threshold` (course_config.Similarity) and its public matches.
    `release_code`: the release notebook's code cells, joined; `levels`: the level names in order."""
    progress = progress or (lambda iterable, **_: iterable)
    modules = MODULES | imported_names(release_code)

    def prints_of(code):
        return fingerprint(code, settings.k, settings.window, modules)

    boilerplate = prints_of(release_code).hashes
    public_hashes = {}
    for name, code in sources.items():
        for h in prints_of(code).hashes - boilerplate:
            public_hashes.setdefault(h, []).append(name)
    prints = {s.student: {part: prints_of(code) for part, code in s.parts.items()}
              for s in progress(students, desc="fingerprints", unit="student")}
    parts = [lv for lv in levels if any(lv in p for p in prints.values())]
    parts += [OTHER] * any(OTHER in p for p in prints.values())
    answers = {s.student: {part for part, code in s.parts.items() if answers_only(code)} for s in students}
    own = _own_code(prints, parts, boilerplate, settings.common_share, answers)
    own_public = {s: {part: hashes & public_hashes.keys() for part, hashes in by_part.items()}
                  for s, by_part in own.items()}
    own_private = {s: {part: hashes - own_public[s][part] for part, hashes in by_part.items()}
                   for s, by_part in own.items()}
    comparable = {s: {part for part, hashes in by_part.items()  # with what public sources have too
                      if len(hashes) >= settings.min_fingerprints and part not in answers[s]}
                  for s, by_part in own.items()}
    result = ClassSimilarity([*parts, ALL], students, prints, [], [], {}, {}, public_hashes)
    result.own_sizes = {s: {part: len(hashes) for part, hashes in by_part.items()}
                        for s, by_part in own_private.items()}
    for s, by_part in own.items():
        result.empty[s] = [part for part in parts
                           if part not in comparable[s] or len(own_private[s][part]) < settings.min_fingerprints]
        result.public[s] = _public_matches(by_part, public_hashes, settings)
    names = sorted(own)
    for a, b in progress(list(combinations(names, 2)), desc="pairs", unit="pair", miniters=2000):
        matches = {}
        for part in comparable[a] & comparable[b]:
            matches[part] = _match(own_private[a][part], own_private[b][part], own_public[a][part],
                                   own_public[b][part], settings.min_fingerprints)
        result.compared_pairs += 1
        if not matches:
            continue
        pair = Pair(a, b, matches)
        if pair.score >= settings.threshold:
            result.pairs.append(pair)
        elif pair.public_score >= settings.threshold:
            result.public_pairs.append(pair)
    for listed in (result.pairs, result.public_pairs):
        listed.sort(key=lambda p: (-p.score, -p.public_score, p.a, p.b))
    return result


def _own_code(prints, parts, boilerplate, common_share, answers) -> dict:
    """{student: {part: hashes}} without the boilerplate and what more than common_share of the
    class has in that part; ALL is the union of a student's parts but its `answers`."""
    n = len(prints)
    common_at = max(3, math.ceil(common_share * n + 1e-9))
    own = {s: {} for s in prints}
    for part in parts:
        counts = Counter(h for by_part in prints.values() if part in by_part for h in by_part[part].hashes)
        common = {h for h, c in counts.items() if c >= common_at}
        for s, by_part in prints.items():
            if part in by_part:
                own[s][part] = by_part[part].hashes - boilerplate - common
    for s in prints:
        own[s][ALL] = frozenset().union(*(h for p, h in own[s].items() if p not in answers[s]))
    return own


def _match(private_a, private_b, public_a, public_b, min_fingerprints) -> Match:
    """Scores 0 where a side has too little code that is neither the class's nor public."""
    shared, public = private_a & private_b, public_a & public_b
    smaller = min(len(private_a), len(private_b))
    score = len(shared) / smaller if smaller >= min_fingerprints else 0.0
    public_score = (len(shared) + len(public)) / min(len(private_a) + len(public_a), len(private_b) + len(public_b))
    return Match(score, public_score, frozenset(shared), frozenset(public))


def _public_matches(by_part, public_hashes, settings) -> dict:
    found = {}
    for part, hashes in by_part.items():
        hits = [h for h in hashes if h in public_hashes]
        if len(hashes) >= settings.min_fingerprints and len(hits) >= settings.public_share * len(hashes):
            counts = Counter(name for h in hits for name in public_hashes[h])
            most = counts.most_common(1)[0][1]  # the sources holding at least half as much as the best, 3 at most
            found[part] = PublicMatch(len(hits) / len(hashes),
                                      tuple(name for name, n in counts.most_common(3) if 2 * n >= most))
    return found
