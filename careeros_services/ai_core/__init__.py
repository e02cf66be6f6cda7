"""The AI HR consultant (issue 4): consultations, CV analysis, roadmap proposals, usage and cost."""
