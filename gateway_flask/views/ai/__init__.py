"""/ai: the AI HR consultant (consultations, CV analysis, usage)."""
