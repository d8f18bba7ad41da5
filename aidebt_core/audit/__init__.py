"""The AI-technical-debt audit: questionnaire, scoring, evidence pre-fill, store, reports."""
