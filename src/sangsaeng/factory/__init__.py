"""Factory data and AI: production data, OEE, SPC, demand forecasts, defect root causes."""
