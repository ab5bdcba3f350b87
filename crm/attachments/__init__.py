"""Files attached to any tenant-owned record (follow-ups first; other contexts reuse it)."""
