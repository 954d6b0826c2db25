"""Where things are and where they are kept: boundaries, CRS, point assignment and stores."""
