"""Loaded by scripts/fuzz-contract.sh through SCHEMATHESIS_HOOKS.

CPython 3.11 can raise `SystemError: AST constructor recursion depth
mismatch` from `ast.parse` (python/cpython#106905, fixed in 3.12), which
hypothesis calls only to describe a lambda in a strategy's repr. There the
error aborts an operation's tests as a schemathesis "Runtime Error" that
has nothing to do with the API. On such a Python the description falls back
to the function's name; nothing else changes.
"""

import sys

if sys.version_info < (3, 12):
    from hypothesis.internal import lambda_sources

    _describe = lambda_sources.lambda_description

    def _lambda_description(f):
        try:
            return _describe(f)
        except SystemError:
            return getattr(f, "__name__", "lambda")

    lambda_sources.lambda_description = _lambda_description
