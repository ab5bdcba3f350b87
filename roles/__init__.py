"""Roles as data, the permission check, data scopes and visible workspaces."""
