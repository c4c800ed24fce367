"""A grading result as typed values: Check, Level, Result, with JSON in and out.

What a worker returns for one submission (grade_one), what the store keeps (store.py), what the
check cells' verdicts are drawn from (plugins/render.py) and what feedback draws again:

    Result: assignment, student, attempt, seed, key (the run key: what ran), grader (what judged it), notebook_sha256,
            device, score, max_score, levels {name: Level}, outputs [[output, ...] per executed
            cell], problems, timed_out, isolation {"layers", "warnings"}, timings, worker
    Level:  level, points, checks [Check], problem, seconds   (score derived: points x passed, floored)
    Check:  name, passed, input, expected, got, message, answer_key, message_without_answer

`to_json`/`from_json` round-trip exactly; a JSON object of an older or newer shape is read with
the fields it has (unknown keys left out, missing ones at their defaults).
"""
import json
import math
from dataclasses import asdict, dataclass, field, fields


@dataclass
class Check:
    name: str  # the check's docstring, first line
    passed: bool
    input: str = ""  # the calls the check made
    expected: str = ""
    got: str = ""
    message: str = ""  # what it likely means (empty when passed)
    answer_key: bool = False  # expected is the same for every student: shown only if SHOW_EXPECTED
    message_without_answer: str = ""  # the message, less the answer (for answer keys)

    @classmethod
    def from_dict(cls, data: dict) -> "Check":
        return cls(**_known(cls, data))


@dataclass
class Level:
    level: str
    points: float
    checks: list = field(default_factory=list)  # [Check]
    problem: str = ""  # why the level could not be checked at all (e.g. a dead kernel)
    seconds: float = 0.0  # how long its checks took (the judge's clock)

    @property
    def score(self) -> float:
        """points x the fraction of checks passed, rounded down to 0.01: a float in [0, points]."""
        if not self.checks or self.problem:
            return 0.0
        passed = sum(c.passed for c in self.checks) / len(self.checks)
        score = math.floor(self.points * passed * 100 + 1e-9) / 100
        return float(min(max(score, 0.0), self.points))

    def as_dict(self) -> dict:
        """Plain data (JSON), with its score."""
        return {**asdict(self), "score": self.score}

    @classmethod
    def from_dict(cls, data: dict) -> "Level":
        known = _known(cls, data)
        return cls(**{**known, "checks": [Check.from_dict(c) for c in known.get("checks", [])]})


@dataclass
class Result:
    assignment: str
    student: str
    key: str  # run_key of what the kernel ran (submission.py)
    max_score: float
    score: float = 0.0
    levels: dict = field(default_factory=dict)  # {name: Level}
    attempt: int = 1
    seed: int = 0  # the hidden inputs' seed it was judged with
    grader: str = ""  # store.grader_version of the grader that gave it ("": not to be reused)
    notebook_sha256: str = ""
    device: str = ""
    outputs: list = field(default_factory=list)  # [[output dict, ...] per executed cell]
    problems: list = field(default_factory=list)
    timed_out: bool = False
    isolation: dict = field(default_factory=lambda: {"layers": "", "warnings": []})
    timings: dict = field(default_factory=dict)  # seconds: kernel_start_s, cells_s, checks_s, total_s, cpu_s
    worker: str = ""

    def as_dict(self, outputs: bool = True) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self) if outputs or f.name != "outputs"}
        data["levels"] = {name: level.as_dict() for name, level in self.levels.items()}
        return data

    def to_json(self, outputs: bool = True) -> str:
        return json.dumps(self.as_dict(outputs), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict) -> "Result":
        known = _known(cls, data)
        return cls(**{**known, "levels": {n: Level.from_dict(lv) for n, lv in known.get("levels", {}).items()}})

    @classmethod
    def from_json(cls, text) -> "Result":
        return cls.from_dict(json.loads(text))


def _known(cls, data: dict) -> dict:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}
