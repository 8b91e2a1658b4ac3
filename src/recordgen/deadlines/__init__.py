"""Statutory clocks: the service's calendar of working days, when each clock is due, the clocks each
document starts and stops, and what is due.
"""
