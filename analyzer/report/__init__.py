"""Rendering a Summary: terminal tables, JSON (and, later, JSON lines, CSV, Markdown, HTML)."""
