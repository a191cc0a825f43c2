"""A limit on the size of request bodies, enforced while they arrive.

A `Content-Length` over the limit is refused before a byte of the body is read; a body without
one (chunked) is counted as it streams and refused as soon as it passes the limit, so a client
cannot make the server hold more than `limit` bytes for it. Both answers are 413 with a JSON
error. A body within the limit is handed to the application unchanged.
"""

from __future__ import annotations

import json


def too_large_message(limit: int) -> dict:
    mb = limit / 1e6
    return {"error": f"the request body is larger than the server's limit of {mb:g} MB",
            "fix": f"send smaller files (resize images, cut recordings), or start the server with a larger "
                   f"--max-mb than {mb:g}"}


class BodySizeLimit:
    """ASGI middleware: 413 for HTTP requests whose body exceeds `limit` bytes."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, int(limit)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await _reply_413(send, self.limit)
        # read the whole body here (at most `limit` bytes), then replay it to the app: the app
        # never sees a request that is cut off half-way by the limit
        chunks, seen, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":          # the client went away
                return
            body = message.get("body", b"")
            seen += len(body)
            if seen > self.limit:
                return await _reply_413(send, self.limit)
            chunks.append(body)
            more = message.get("more_body", False)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _reply_413(send, limit: int) -> None:
    body = json.dumps(too_large_message(limit)).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
