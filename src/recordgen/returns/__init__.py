"""The monitoring returns: the Service standard's monthly figures, the Floating support
specification's Appendix 1 each quarter, the statutory clocks, and each support worker's figures,
computed from the records store and written as a workbook and CSV files."""
