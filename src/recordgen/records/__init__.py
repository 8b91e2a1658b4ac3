"""The records store and what reads it back: the store, its migrations and rows, the hash chain, the
seals written outside it, history and verify.
"""
