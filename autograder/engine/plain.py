"""Plain data between the student's code and the judge: the hidden checks reach the student's code
through nothing else.

Only tensors, numbers, strings, bools, None, and lists / tuples / str-keyed dicts of them cross
the boundary, plus `Handle`s that name an object living on the student's side. The trusted side
reads replies with `torch.load(weights_only=True)` and `check_plain`, so a reply can carry data,
never code.
"""
import torch

MAX_DEPTH = 8
MAX_NODES = 200_000  # values walked in one reply, a shared container counted at each reference


class Handle:
    """An object (a model, an optimiser...) that stays in the student's namespace, named by id."""

    def __init__(self, id: int, type_name: str):
        self.id, self.type_name = id, type_name

    def __repr__(self):
        return f"<{self.type_name}>"


def check_plain(value, max_nodes=MAX_NODES):
    """Raise TypeError unless `value` is plain data within MAX_DEPTH and `max_nodes` values
    (every later walk of it is then as cheap); return it unchanged."""
    stack, walked = [(value, 0)], 0
    while stack:
        item, depth = stack.pop()
        walked += 1
        if walked > max_nodes:
            raise TypeError(f"more than {max_nodes} values (shared containers count at each use)")
        if depth > MAX_DEPTH:
            raise TypeError("nested too deeply")
        if item is None or isinstance(item, (bool, int, float, str, torch.Tensor, Handle)):
            continue
        if isinstance(item, (list, tuple)):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, dict) and all(isinstance(k, str) for k in item):
            stack.extend((child, depth + 1) for child in item.values())
        else:
            raise TypeError(f"not plain data: {type(item).__name__}")
    return value


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
