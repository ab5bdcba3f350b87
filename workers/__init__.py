"""Background jobs: the RQ connection and queues, the job record, and the job functions."""
