"""Scheduled work, run by `rq cron workers/cron.py` (RQ's cron scheduler) next to the workers.

Times are UTC: 18:00 UTC is 02:00 in Asia/Shanghai, when nobody is working.
"""

from rq import cron

from workers.jobs.sales_daily import enqueue_daily_sales
from workers.jobs.scheduled import publish_announcements, remind_work_reports

cron.register(enqueue_daily_sales, "default", cron="0 18 * * *", name="sales-daily")

cron.register(publish_announcements, "default", cron="*/5 * * * *", name="announcements-publish")
cron.register(remind_work_reports, "default", cron="7 * * * *", name="work-report-reminders")
