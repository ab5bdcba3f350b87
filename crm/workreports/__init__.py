"""Office → Work reports (工作汇报): daily, weekly and monthly reports, their readers and rules."""
