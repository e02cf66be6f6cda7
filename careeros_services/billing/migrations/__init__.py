"""Schema migrations of the billing database (``m<NNNN>_*.py`` with ``up(cur)``)."""
