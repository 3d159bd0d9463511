"""HL7 FHIR export of the bedside record (``bundle.py``): one Bundle per patient."""
