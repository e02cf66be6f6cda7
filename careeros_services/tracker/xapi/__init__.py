"""The tracker's xAPI Learning Record Store rules (xAPI 1.0.3 and 2.0 / IEEE 9274.1.1). Pure Python.

* :mod:`.validate`: is this a valid Statement / Agent / Activity (400 naming the path otherwise).
* :mod:`.statements`: what the LRS fills in (id, stored, authority, version), the index
  fields queries use (actor IFIs, related activities/agents), xAPI's comparison rules
  for conflicts, the ``ids``/``exact``/``canonical`` formats.
* :mod:`.query`: the filters of ``GET /statements`` and the ``more`` token.
* :mod:`.documents`: State / Activity Profile / Agent Profile parameters, ETags, JSON merge.
* :mod:`.multipart`: ``multipart/mixed`` bodies (attachments, signed statements).
* :mod:`.protocol`: the request envelope (version header, parameters per resource).
"""
