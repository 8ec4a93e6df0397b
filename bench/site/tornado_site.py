"""The Tornado peer: /fortunes from SQLite through the executor (sqlite3 is blocking),
rendered by Tornado's own template engine with a layout; /static/ from --static.

    python tornado_site.py --port 8080 --db fortunes.db --static DIR [--locking exclusive|normal]
"""

import argparse
import asyncio
import os.path
import sqlite3
import threading

import tornado.ioloop
import tornado.web

ADDED_AT_REQUEST_TIME = "Additional fortune added at request time."
_local = threading.local()


def read_fortunes(database, exclusive_locking):
    # One connection per executor thread, as the Rust peers keep one per blocking thread.
    connection = getattr(_local, "connection", None)
    if connection is None:
        connection = sqlite3.connect("file:%s?mode=ro" % database, uri=True)
        # As the Rust peers: with --locking exclusive (the default) the read-only table's
        # shared lock is kept between queries.
        if exclusive_locking:
            connection.execute("PRAGMA locking_mode=EXCLUSIVE")
        _local.connection = connection
    rows = connection.execute("SELECT id, message FROM Fortune").fetchall()
    rows.append((0, ADDED_AT_REQUEST_TIME))
    rows.sort(key=lambda row: row[1])
    return rows


class FortunesHandler(tornado.web.RequestHandler):
    def initialize(self, database, exclusive_locking):
        self.database = database
        self.exclusive_locking = exclusive_locking

    async def get(self):
        fortunes = await tornado.ioloop.IOLoop.current().run_in_executor(
            None, read_fortunes, self.database, self.exclusive_locking
        )
        self.render("fortunes.html", fortunes=fortunes)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--db", default="fortunes.db")
    parser.add_argument("--static", default="static")
    parser.add_argument("--locking", choices=["exclusive", "normal"], default="exclusive")
    args = parser.parse_args()
    app = tornado.web.Application(
        [
            (
                r"/fortunes",
                FortunesHandler,
                {"database": args.db, "exclusive_locking": args.locking == "exclusive"},
            )
        ],
        template_path=os.path.join(os.path.dirname(__file__), "tornado_templates"),
        static_path=args.static,
    )
    app.listen(args.port, address="127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
