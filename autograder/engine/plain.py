"""Plain data between the student's code and the judge (DESIGN rule 2).

Only tensors, numbers, strings, bools, None, and lists / tuples / str-keyed dicts of them cross
the boundary, plus `Handle`s that name an object living on the student's side. The trusted side
reads replies with `torch.load(weights_only=True)` and `check_plain`, so a reply can carry data,
never code.
"""
import torch

MAX_DEPTH = 8


class Handle:
    """An object (a model, an optimiser...) that stays in the student's namespace, named by id."""

    def __init__(self, id: int, type_name: str):
        self.id, self.type_name = id, type_name

    def __repr__(self):
        return f"<{self.type_name}>"


def check_plain(value, depth=0):
    """Raise TypeError unless `value` is plain data; return it unchanged."""
    if depth > MAX_DEPTH:
        raise TypeError("nested too deeply")
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor, Handle)):
        return value
    if isinstance(value, (list, tuple)):
        for item in value:
            check_plain(item, depth + 1)
        return value
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        for item in value.values():
            check_plain(item, depth + 1)
        return value
    raise TypeError(f"not plain data: {type(value).__name__}")


def describe(value, max_numbers=8) -> str:
    """A short readable form for a check table: small tensors by value, big ones by shape."""
    if isinstance(value, torch.Tensor):
        if value.numel() <= max_numbers and value.dtype.is_floating_point:
            return str([round(x, 4) for x in value.detach().cpu().flatten().tolist()]) + \
                f" shape={tuple(value.shape)}"
        if value.numel() <= max_numbers:
            return f"{value.detach().cpu().flatten().tolist()} shape={tuple(value.shape)}"
        return f"tensor shape={tuple(value.shape)} dtype={str(value.dtype).removeprefix('torch.')}"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"{type(value).__name__} of {len(value)}"
    if isinstance(value, torch.Size):
        return str(tuple(value))
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
