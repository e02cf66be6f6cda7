"""Schema migrations of the roadmap database (``m<NNNN>_*.py`` with ``up(cur)``)."""
