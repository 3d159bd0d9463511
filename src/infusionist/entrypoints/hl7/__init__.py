"""The HL7 listener: monitors' ORU^R01 messages in, acknowledgements out."""
