"""Webhook mode: Telegram's POSTs and GET /healthz served by one tornado server.

PTB's own `run_webhook` serves the update path alone, so this follows its custom-webhook
pattern: the Application is started by hand and updates are put on its `update_queue`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from urllib.parse import urlparse

import tornado.web
from telegram import Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer

from retrieval.errors import NewsbotError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
HealthCheck = Callable[[], Awaitable[dict[str, object]]]


class UpdateHandler(tornado.web.RequestHandler):
    """POSTs from Telegram: checks the secret token, then queues the update."""

    def initialize(self, app: Application, secret: str | None) -> None:  # type: ignore[type-arg]
        """Tornado's per-request set-up."""
        self.app = app
        self.secret = secret

    async def post(self) -> None:
        """Queue one update for the Application's handlers."""
        sent = self.request.headers.get(SECRET_HEADER, "")
        if self.secret is not None and not hmac.compare_digest(sent, self.secret):
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        try:
            update = Update.de_json(json.loads(self.request.body), self.app.bot)
        except Exception as exc:  # not JSON, or not an update
            log.warning("webhook: an update that could not be read: %s", type(exc).__name__)
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST) from None
        if update is not None:
            await self.app.update_queue.put(update)

    def log_exception(self, *args: object) -> None:
        """Refused requests are not errors worth a traceback."""


class HealthHandler(tornado.web.RequestHandler):
    """GET /healthz: 200 and the live index's figures, or 503 and why it cannot answer."""

    def initialize(self, check: HealthCheck) -> None:
        """Tornado's per-request set-up."""
        self.check = check

    async def get(self) -> None:
        """Report whether the index loads."""
        try:
            body = await self.check()
        except NewsbotError as exc:
            self.set_status(HTTPStatus.SERVICE_UNAVAILABLE)
            body = {"status": "error", "error": str(exc)}
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


def web_app(
    app: Application,  # type: ignore[type-arg]
    path: str,
    secret: str | None,
    check: HealthCheck,
) -> tornado.web.Application:
    """The routes: the update path (from the webhook URL) and /healthz."""
    return tornado.web.Application(
        [
            (rf"/{path.strip('/')}/?", UpdateHandler, {"app": app, "secret": secret}),
            (HEALTH_PATH, HealthHandler, {"check": check}),
        ],
        log_function=lambda handler: None,  # request lines carry nothing worth logging
    )


async def serve_webhook(
    app: Application,  # type: ignore[type-arg]
    *,
    url: str,
    listen: str,
    port: int,
    secret: str | None,
    check: HealthCheck,
) -> None:
    """Serve until SIGINT or SIGTERM, as PTB's `run_webhook` does (run it with asyncio.run)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for name in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(name, stop.set)
    server = HTTPServer(web_app(app, urlparse(url).path, secret, check))
    await app.initialize()
    try:
        if app.post_init is not None:
            await app.post_init(app)
        server.listen(port, address=listen)  # before setWebhook: the first POST may be quick
        await app.bot.set_webhook(url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
        await app.start()
        await stop.wait()
    finally:
        server.stop()
        await server.close_all_connections()
        if app.running:
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
