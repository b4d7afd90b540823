"""Mining git history into the store: read-only, streamed, incremental (see docs/architecture.md)."""
