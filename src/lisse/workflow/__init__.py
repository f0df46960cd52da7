"""The workflow boundary: the config (validated, in SI) and the command line of the solver steps."""
