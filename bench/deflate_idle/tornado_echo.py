"""Tornado's WebSocket echo with compression on (get_compression_options returns {}: Tornado's
defaults, context takeover both ways). Usage: python tornado_echo.py PORT. Exits by itself after
PEER_MAX_SECS (default 900) so a server left behind by an interrupted run does not live on."""

import asyncio
import os
import sys

import tornado.web
import tornado.websocket


class EchoHandler(tornado.websocket.WebSocketHandler):
    def check_origin(self, origin):
        return True

    def get_compression_options(self):
        return {}

    def on_message(self, message):
        try:
            self.write_message(message, binary=isinstance(message, bytes))
        except tornado.websocket.WebSocketClosedError:
            pass


async def main():
    port = int(sys.argv[1])
    app = tornado.web.Application([(r"/ws", EchoHandler)])
    app.listen(port, address="127.0.0.1", backlog=1024)
    print(f"listening tornado {tornado.version} on {port}", flush=True)
    await asyncio.sleep(float(os.environ.get("PEER_MAX_SECS", "900")))


asyncio.run(main())
