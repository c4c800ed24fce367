"""The student-side half of the plain-data protocol.

This file's source is sent into the student's kernel as it is (it imports nothing of the
course), and the in-process `LocalStudent` uses it too, so both paths answer alike. It runs
beside untrusted code and is itself untrusted: the judge only believes the data it returns.

A request: {"op": "call" | "get" | "run", "target": name or {"__handle__": id},
            "method": name or None, "args": [...], "kwargs": {...}, "source": str, "device": str}
A reply:   {"ok": True, "value": plain} or {"ok": False, "type": "...", "message": "..."}
"""
import torch

MIME = "application/x-course-judge-reply"


class Agent:
    PLAIN = (bool, int, float, str, type(None))

    def __init__(self, namespace):
        self.namespace = namespace  # the student's globals
        self.objects = {}  # handle id -> object kept on this side

    def serve(self, request):
        try:
            return {"ok": True, "value": self.encode(self.answer(request))}
        except BaseException as error:  # the student's code may raise anything, even SystemExit
            return {"ok": False, "type": type(error).__name__, "message": str(error)[:2000]}

    def serve_b64(self, request_b64, nonce):
        """Kernel side: a request in base64, the reply published as a display_data message."""
        import base64
        import io
        from IPython.display import publish_display_data
        reply = self.serve(torch.load(io.BytesIO(base64.b64decode(request_b64)), weights_only=True))
        reply["nonce"] = nonce
        buffer = io.BytesIO()
        torch.save(reply, buffer)
        publish_display_data({MIME: base64.b64encode(buffer.getvalue()).decode()})

    def answer(self, request):
        device = request.get("device", "cpu")
        args = [self.decode(a, device) for a in request.get("args", [])]
        kwargs = {k: self.decode(v, device) for k, v in request.get("kwargs", {}).items()}
        op = request["op"]
        if op == "run":  # a judge helper that drives the student's code (e.g. a training loop)
            scope = {"torch": torch}
            exec(request["source"], scope)
            return scope[request["target"]](self.namespace, *args, **kwargs)
        target = self.resolve(request["target"])
        if op == "get":
            return target
        if request.get("method"):
            target = getattr(target, request["method"])
        return target(*args, **kwargs)

    def resolve(self, target):
        if isinstance(target, dict):
            return self.objects[target["__handle__"]]
        if target not in self.namespace:
            raise NameError(f"name '{target}' is not defined")
        return self.namespace[target]

    def decode(self, value, device):
        if isinstance(value, torch.Tensor):
            return value.to(device)
        if isinstance(value, dict) and "__handle__" in value:
            return self.objects[value["__handle__"]]
        if isinstance(value, list):
            return [self.decode(v, device) for v in value]
        if isinstance(value, tuple):
            return tuple(self.decode(v, device) for v in value)
        if isinstance(value, dict):
            return {k: self.decode(v, device) for k, v in value.items()}
        return value

    def encode(self, value, depth=0):
        if isinstance(value, torch.Tensor):
            return value.detach().cpu().clone()
        if isinstance(value, self.PLAIN):
            return value
        if isinstance(value, torch.Size):
            return tuple(int(n) for n in value)
        if depth < 8 and type(value) in (list, tuple):
            return type(value)(self.encode(v, depth + 1) for v in value)
        if depth < 8 and type(value) is dict and all(isinstance(k, str) for k in value):
            return {k: self.encode(v, depth + 1) for k, v in value.items()}
        if depth < 8 and isinstance(value, dict):  # e.g. a state_dict (an OrderedDict)
            return {str(k): self.encode(v, depth + 1) for k, v in value.items()}
        handle = len(self.objects) + 1
        self.objects[handle] = value
        return {"__handle__": handle, "__type__": type(value).__name__}
