"""One module a family of operations, each operation one entry (see rules/operation.py)."""
