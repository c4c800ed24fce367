"""Known-wrong implementations, kept beside the references.

Each is a plausible student mistake: the same names and shapes as the reference, wrong values.
The project's tests prove that every one of them fails its level's checks, and the checks use
them to name the likely cause when a student's output matches one.
"""
from dataclasses import dataclass, field


@dataclass
class Wrong:
    level: str  # the level whose checks must reject it
    name: str  # a short id, e.g. "fill_zero"
    zh: str  # what the mistake is, for the student
    en: str
    overrides: dict = field(default_factory=dict)  # names replaced in the reference namespace


class Registry(list):
    """`@registry.wrong(level, name, zh, en)` on a function or class registers it."""

    def wrong(self, level, name, zh, en):
        def register(obj):
            self.append(Wrong(level, name, zh, en, {obj.__name__: obj}))
            return obj
        return register

    def answers(self, level, name, zh, en, **values):
        """A wrong answer set for a level where the student states values."""
        self.append(Wrong(level, name, zh, en, values))

    def of(self, level):
        return [w for w in self if w.level == level]
