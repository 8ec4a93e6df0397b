"""Opens N WebSocket clients offering permessage-deflate (Python `websockets`, which offers it
like a browser), sends one 1 KiB JSON text message on each, waits for its echo, then holds them
all idle until stdin closes. Prints `ready CONNECTED FAILED ANSWER` once every client has had
its echo (ANSWER: the first connection's Sec-WebSocket-Extensions answer).

Usage: python clients.py URL N [CONCURRENCY]
Bounded: each connect and echo has a 30 s timeout; the whole run a 600 s lifetime.
"""

import asyncio
import json
import sys

from websockets.asyncio.client import connect

MESSAGE = json.dumps({"room": "lobby", "user": "ada", "text": "hello again " * 83})[:1024]


async def one(url, held, answers, gate):
    async with gate:
        socket = await asyncio.wait_for(
            connect(url, compression="deflate", open_timeout=30, ping_interval=None,
                    max_queue=4),
            30,
        )
    answers.append(socket.response.headers.get("Sec-WebSocket-Extensions"))
    await socket.send(MESSAGE)
    echo = await asyncio.wait_for(socket.recv(), 30)
    if echo != MESSAGE:
        raise RuntimeError("echo differs")
    held.append(socket)


async def main():
    url, count = sys.argv[1], int(sys.argv[2])
    gate = asyncio.Semaphore(int(sys.argv[3]) if len(sys.argv) > 3 else 200)
    held, answers = [], []
    results = await asyncio.gather(
        *(one(url, held, answers, gate) for _ in range(count)), return_exceptions=True
    )
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        print(f"first failure: {failed[0]!r}", file=sys.stderr)
    print(f"ready {len(held)} {len(failed)} {answers[0] if answers else None}", flush=True)
    loop = asyncio.get_running_loop()
    # Idle until the script closes our stdin.
    await loop.run_in_executor(None, sys.stdin.read)
    for socket in held:
        socket.transport.abort()


asyncio.run(asyncio.wait_for(main(), 600))
