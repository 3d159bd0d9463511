"""HL7 FHIR export of the trial record (``export.py``): the Bulk Data format (NDJSON per resource
type with its manifest, ``bulk.py``) or one Bundle per patient (``bundle.py``), both from the
resources of ``resources.py``."""
