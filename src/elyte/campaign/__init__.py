"""Campaigns: plan, store (run folders + SQLite index), executors (local, Dask), runner."""
