"""One durable queue for every outgoing signed HTTP call (Authy callbacks today).

A delivery is enqueued in the transaction of the change that causes it, leased by one worker,
sent by the sender of its kind, retried with back-off, and recorded. A per-target circuit
breaker pauses a receiver that stays down and probes it until it answers.
"""
