"""The local page and its JSON API (``netarith serve``; needs ``pip install 'netarith[web]'``).

:mod:`.api` holds the request handlers as plain functions (no web framework);
:mod:`.app` wraps them in a Starlette application with the limits: 1 MB bodies,
10,000 layers, a time bound, notation and zoo names only (never a file path or
a Python import), and every name escaped in what is shown.
"""
