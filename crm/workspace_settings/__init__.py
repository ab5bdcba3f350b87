"""Settings → Workspace: name, time zone, currency, fiscal year and document numbering."""
