"""Refuse request bodies over the configured size before reading them into memory."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twofa.errors import PayloadTooLarge


class BodyLimit:
    """ASGI middleware: 413 in the Authy envelope when a body exceeds ``max_bytes``."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, *, uploads: tuple[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = uploads  # (path prefix, larger limit): the console's file uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.max_bytes
        if self.uploads is not None and scope["path"].startswith(self.uploads[0]):
            max_bytes = self.uploads[1]
        has_body = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                has_body = True
                try:
                    too_big = int(value) > max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._refuse(send)
                    return
            elif name == b"transfer-encoding":
                has_body = True
        if not has_body:  # HTTP/1.1: no length and no chunking means no body to count
            await self.app(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            # Raised into the route that reads the body, so the application's own handlers
            # answer it (in the route's dialect: the envelope, a Verify error, a console
            # page); only what nothing handled comes back up here.
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    raise PayloadTooLarge()
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracking_send)
        except PayloadTooLarge:
            if not started:
                await self._refuse(send)

    @staticmethod
    async def _refuse(send: Send) -> None:
        error = PayloadTooLarge()
        body = json.dumps(error.body(), separators=(",", ":")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": error.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
