"""Durable background jobs: a queue in the store, workers in the serve process, a registry of handlers.

queue.enqueue / claim / complete / fail     persisted before acknowledged; leases; retries with backoff
handlers.HANDLERS, handler("kind")          sync, refresh, sync_all, sweep (others register their own)
worker.Worker                               claims and runs jobs; stops gracefully
"""
