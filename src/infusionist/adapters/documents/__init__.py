"""Documents for people: the patient's handout (HTML template -> PDF with WeasyPrint)."""
