"""The command line: one module per command (derive, check, verify, serve, parse, eval), and
``main``, which reads the arguments and turns every error into a message and an exit code."""
