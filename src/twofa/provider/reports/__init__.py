"""The console's read side: dashboard figures, request timelines, message and audit logs,
effective settings. SQL in ``store.py`` and ``history/store.py``; masks in ``masking.py``;
charts in ``svg.py``. Nothing here writes."""
