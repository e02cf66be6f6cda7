"""Schema migrations of the auth database (``m<NNNN>_*.py`` with ``up(cur)``)."""
