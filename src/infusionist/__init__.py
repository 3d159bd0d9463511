"""infusionist: infusion planning and bedside records for MS units (each therapy a protocol file)."""

__version__ = "0.1.0"
