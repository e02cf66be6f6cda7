"""Schema migrations of the tracker database (``m<NNNN>_*.py`` with ``up(cur)``)."""
