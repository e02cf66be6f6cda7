"""Schema migrations of the notifications database (``m<NNNN>_*.py`` with ``up(cur)``)."""
