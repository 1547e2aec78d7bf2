"""Reports for people: the monthly cost report (one self-contained HTML page per month)."""
