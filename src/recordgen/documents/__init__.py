"""Making documents: validating case files, the service's rules, rendering Word documents, converting
them to PDF, publishing them in the outbox, and one place that produces a version.
"""
