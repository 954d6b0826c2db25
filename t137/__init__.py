"""The front door: the ``t137`` command line and the settings. No logic lives here."""
