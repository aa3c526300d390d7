"""hotelctl: run, inspect and operate the Posada mesh."""
