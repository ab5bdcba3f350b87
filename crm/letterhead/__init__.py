"""Settings → Letterhead: the company details and logo printed on quotes and contracts."""
