"""Schema migrations of the profile database (``m<NNNN>_*.py`` with ``up(cur)``)."""
