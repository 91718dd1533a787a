"""Rule tables of the derivation engine, one entry per operation of the language."""
