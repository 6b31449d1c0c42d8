"""Contracts that cross a process boundary: events, topics, database tables."""
