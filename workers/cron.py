"""Scheduled work, run by `rq cron workers/cron.py` (RQ's cron scheduler) next to the workers.

Times are UTC: 18:00 UTC is 02:00 in Asia/Shanghai, when nobody is working.
"""

from rq import cron

from workers.jobs.pool_rules import enqueue_daily_pool_rules

cron.register(enqueue_daily_pool_rules, "default", cron="0 18 * * *", name="pool-rules-daily")
