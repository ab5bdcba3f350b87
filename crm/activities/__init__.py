"""Sales → follow-ups (跟进记录) and tasks."""
