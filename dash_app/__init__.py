"""The Dash application for city managers, planners and citizens."""
