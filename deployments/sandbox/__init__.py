"""Real servers started on 127.0.0.1 for the demo, the tests and the benchmarks.

A sandbox is a real, open-source platform (Tryton from PyPI, Vendure from npm) installed into
a cache folder and started as a child process on a free loopback port. Nothing here is a fake:
the connectors talk to these servers exactly as they would to a customer's.
"""
