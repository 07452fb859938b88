"""Carrier events in (DCSA Track & Trace 2.2 callbacks and 3.0 events): see docs/integrations.md.

- :mod:`.connections`: the carriers' connections (subscription id, encrypted secret, integration key) and the
  signature and key checks of each request;
- :mod:`.schema`: the spec's schemas and the rules beyond them; what the portal reads from an event;
- :mod:`.intake`: keep each event once, match it to shipments, apply it through the workspace;
- :mod:`.queue`: the events that matched nothing, for staff to place by hand.
"""
