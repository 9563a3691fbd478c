"""The forum as bench/run serves it under gunicorn, plus a bare endpoint served by the same
workers with the same settings: the ceiling each page's throughput is compared with."""

from forum import create_app

app = create_app()


@app.route("/bench/bare")
def bare():
    return "ok"
