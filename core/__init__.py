"""The shared vocabulary of EstateOps; imports nothing of ours (see the README's map).

`slug`, `topic` (the wire's topic), `telemetry` (a store's point), `vocabulary` (category,
priority, team, action, the anomaly), `clock` (the one Clock), `db` (the SQL Base).
"""
