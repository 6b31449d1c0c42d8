"""HTTP routes of the command API; thin wrappers that call the command modules."""
