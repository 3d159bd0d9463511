"""infusionist: alemtuzumab infusion planning and bedside records for MS units."""

__version__ = "0.1.0"
