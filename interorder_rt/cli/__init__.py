"""The ``interorder`` command line."""
