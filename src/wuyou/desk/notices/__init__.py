"""Announcements to branches (maintenance windows, release notes, precautions), their acknowledgements, and the
maintenance windows the desk answers reports with."""
