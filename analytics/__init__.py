"""Pure functions and estimators over (Geo)DataFrames: KPIs, rankings, hotspots and maps."""
