"""Storage extensions over the library's recorders: the per-stream hash chain and the
idempotency keys, both written in the same transaction as the events."""
