"""Assessments: questionnaire-and-score instruments kept as data (``instruments/*.yaml``)."""
