"""The demo: a real Tryton and a real Vendure on loopback, a seeded catalogue, the flows under Prefect."""
