"""Office → Announcements (公告): Markdown notices to everyone or chosen roles, with read receipts."""
