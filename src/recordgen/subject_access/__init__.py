"""Answering a subject access request: the request's rules and words, what is held, redaction at
source, the redaction log, and the bundle's pages.
"""
