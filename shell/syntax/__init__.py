"""Readers of typed text that several backends share, so that no backend imports another.

rjson.py reads relaxed JSON (mongo's method arguments, queue data); words.py splits a line into
words with redis-cli's quoting (Redis and memcache modes).
"""
