"""Reading a reply of the student's code with a budget checked before each step.

A reply is a torch.save zip (tensors' bytes in their own entries, the rest in data.pkl). Before
it is decoded: its base64 text within the reply budget; the zip's entries stored (no
compression, so no zip bomb) and within the budget together; data.pkl, the structure, within
MAX_STRUCTURE_BYTES, so unpickling stays cheap (ten million ints must come as a tensor). After
`torch.load(weights_only=True)`, `plain.check_plain` walks it with a node budget that counts a
shared container once per reference, so a few KB that share one list 100 times 7 deep are
refused after MAX_NODES steps, not walked for ever.
"""
import base64
import binascii
import io
import zipfile

import torch

MAX_STRUCTURE_BYTES = 1 << 20  # data.pkl: containers, numbers, strings of a reply


class ReplyRefused(ValueError):
    """A reply over a budget: the check's call fails with this reason."""


def decode(text: str, max_bytes: int):
    """The plain value of one base64 reply, or ReplyRefused."""
    if not isinstance(text, str) or len(text) > max_bytes * 4 // 3 + 4:
        raise ReplyRefused(f"the reply is over the {max_bytes >> 20} MB budget")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ReplyRefused("the reply is not base64") from None
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile:
        raise ReplyRefused("the reply is not a torch.save file") from None
    if any(entry.compress_type != zipfile.ZIP_STORED for entry in entries):
        raise ReplyRefused("the reply's entries are compressed")
    if sum(entry.file_size for entry in entries) > max_bytes:
        raise ReplyRefused(f"the reply unpacks to more than {max_bytes >> 20} MB")
    if any(entry.filename.endswith("data.pkl") and entry.file_size > MAX_STRUCTURE_BYTES for entry in entries):
        raise ReplyRefused(f"the reply's structure is over {MAX_STRUCTURE_BYTES >> 10} KB (send big data as tensors)")
    try:
        return torch.load(io.BytesIO(data), weights_only=True)
    except Exception as error:
        raise ReplyRefused(f"the reply could not be read ({type(error).__name__})") from None
