"""CDISC SDTM export of the bedside record (``sdtm.py``) and its own conformance checks."""
