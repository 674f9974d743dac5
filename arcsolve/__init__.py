"""arcsolve: a Tiny Recursive Model (TRM) toolkit for the ARC Prize."""

__version__ = "0.1.0"
