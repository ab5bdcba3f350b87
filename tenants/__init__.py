"""Workspaces (tenants), who belongs to them, and the walls that keep them apart."""
