"""Statutory clocks: when each clock falls due and whether it was met (clocks), which clocks each case
file starts and each document stops, kept in the store (tracking), and what is due now (due). The
working-day calendar they count with is :mod:`recordgen.calendar`.
"""
