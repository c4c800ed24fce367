"""The `Student` the hidden checks talk to: the student's code, reached through plain data only.

`LocalStudent` runs code in this process (for the project's tests: references, known-wrong
implementations, the seeds' code). `session.KernelStudent` reaches a submission's sandboxed
kernel. Checks cannot tell them apart.
"""
import inspect
import io
import math
import textwrap

import torch
from torch import nn

from autograder.engine.agent import Agent
from autograder.engine.plain import Handle, check_plain, describe


class StudentError(Exception):
    """The student's code raised, was missing, or could not answer: a type name and a message."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind, self.message = kind, message


class Student:
    """Calls into the student's code. Subclasses implement `_request` (one agent round trip)."""

    def __init__(self):
        self.calls = []  # readable form of each call made by the current check

    def call(self, target, *args, device="cpu", **kwargs):
        """`target(*args, **kwargs)`, target a name in the student's namespace or a Handle."""
        return self._send("call", target, None, args, kwargs, device)

    def method(self, handle, name, *args, device="cpu", **kwargs):
        """`handle.name(*args, **kwargs)` on an object living on the student's side."""
        return self._send("call", handle, name, args, kwargs, device)

    def get(self, name):
        """The value of a variable in the student's namespace (plain data or a Handle)."""
        return self._send("get", name, None, (), {}, "cpu")

    def run(self, helper, *args, device="cpu", **kwargs):
        """Run a judge helper `helper(namespace, *args)` beside the student's code.

        The helper's source travels, so it must be self-contained (it may use `torch`)."""
        request = self._request_for("run", helper.__name__, None, args, kwargs, device)
        request["source"] = textwrap.dedent(inspect.getsource(helper))
        return self._decode(self._request(request))

    def _send(self, op, target, method, args, kwargs, device):
        return self._decode(self._request(self._request_for(op, target, method, args, kwargs, device)))

    def _request_for(self, op, target, method, args, kwargs, device):
        name = target if isinstance(target, str) else repr(target)
        shown = ", ".join([describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()])
        self.calls.append(f"{name}.{method}({shown})" if method else
                          name if op == "get" else f"{name}({shown})")
        return {"op": op, "target": _encode_handles(target), "method": method,
                "args": [_encode_handles(a) for a in args],
                "kwargs": {k: _encode_handles(v) for k, v in kwargs.items()}, "device": device}

    def _decode(self, reply):
        try:
            check_plain(reply)
        except TypeError as error:
            raise StudentError("ProtocolError", f"reply refused: {error}") from None
        if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
            raise StudentError("ProtocolError", "malformed reply")
        if not reply["ok"]:
            raise StudentError(str(reply.get("type")), str(reply.get("message")))
        return _decode_handles(reply.get("value"))

    def _request(self, request: dict) -> dict:
        raise NotImplementedError


class LocalStudent(Student):
    """The student's code run in this process, from a namespace or from source text."""

    def __init__(self, namespace: dict):
        super().__init__()
        self.agent = Agent(namespace)

    @classmethod
    def from_source(cls, source: str) -> "LocalStudent":
        """Execute `source` as a notebook would, with the usual imports already done."""
        namespace = {"torch": torch, "nn": nn, "math": math}
        exec(compile(source, "<student>", "exec"), namespace)
        return cls(namespace)

    @classmethod
    def from_module(cls, module, **overrides) -> "LocalStudent":
        """A copy of `module`'s namespace, some names replaced (e.g. by a known-wrong version)."""
        return cls({**vars(module), **overrides})

    def _request(self, request):
        # Both ways through torch.save / weights_only load, as across the kernel boundary.
        return _round_trip(self.agent.serve(_round_trip(request)))


def _round_trip(value):
    buffer = io.BytesIO()
    torch.save(value, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def _encode_handles(value):
    if isinstance(value, Handle):
        return {"__handle__": value.id}
    if isinstance(value, (list, tuple)):
        return type(value)(_encode_handles(v) for v in value)
    if isinstance(value, dict):
        return {k: _encode_handles(v) for k, v in value.items()}
    return value


def _decode_handles(value):
    if isinstance(value, dict) and "__handle__" in value:
        return Handle(int(value["__handle__"]), str(value.get("__type__")))
    if isinstance(value, (list, tuple)):
        return type(value)(_decode_handles(v) for v in value)
    if isinstance(value, dict):
        return {k: _decode_handles(v) for k, v in value.items()}
    return value
