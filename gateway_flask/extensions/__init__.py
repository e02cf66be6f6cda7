"""Framework extensions: the project's flask-smorest ``Api``, ``Blueprint`` and ``Schema``."""
from gateway_flask.extensions.api import API_PREFIX, Api, Blueprint, ProblemSchema, Schema

__all__ = ["API_PREFIX", "Api", "Blueprint", "ProblemSchema", "Schema"]
