"""Command groups of the ``t137`` command line."""
