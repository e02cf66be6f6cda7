"""Schema migrations of the lms database (``m<NNNN>_*.py`` with ``up(cur)``)."""
