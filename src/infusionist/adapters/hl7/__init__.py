"""HL7 v2: ORU^R01 vital signs from bedside monitors, acknowledgements, and the MLLP server."""
