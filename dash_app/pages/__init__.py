"""Page layouts (``dash.register_page``); each reads its state from the URL query."""
