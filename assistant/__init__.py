"""Convention Assistant: cited answers about the cybercrime conventions."""
