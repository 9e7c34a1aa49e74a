"""The ``ivs`` command line: the only package that imports both halves."""
